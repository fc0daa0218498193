#!/usr/bin/env bash
# The image header probe against PIL (Debian python3-pil; Image.open(path).size and .format, which
# LLaVA uses): 461 generated images (PNG, palette PNG, JPEG baseline / progressive / CMYK / grey /
# EXIF-rotated / behind a 60 kB APP segment, GIF, BMP and top-down BMP, TIFF little- and big-endian,
# WebP lossy / lossless / extended) must give PIL's width, height and format. Truncated, lying and
# foreign files must give an error line each (exit 1), never a crash; a path leaving --image-root
# is refused. Usage: probe.sh TOKALIGN WORKDIR. Exit 77 without python3-pil or node.
set -uo pipefail
BIN=$1 W=$2
PY=/usr/bin/python3
$PY -c "import PIL" 2>/dev/null || { echo "SKIP: python3-pil is missing"; exit 77; }
command -v node >/dev/null || { echo "SKIP: node is missing"; exit 77; }
rm -rf "$W" && mkdir -p "$W"
$PY tests/vision/make_images.py "$W/img" 2>/dev/null || { echo "FAIL: make_images.py"; exit 1; }
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
# compare EXPECTED OUT WHAT: each line of OUT has the width, height and format PIL gave.
compare() {
  node -e '
const fs = require("fs");
const e = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
const o = fs.readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean).map(JSON.parse);
let same = 0, shown = 0;
e.forEach((x, i) => { const y = o[i];
  if (y && y.width === x.width && y.height === x.height && y.format === x.format) same++;
  else if (shown++ < 10) console.log("FAIL", JSON.stringify(x), "tokalign", JSON.stringify(y)); });
console.log(`image probe vs PIL (${process.argv[3]}): ${same}/${e.length} images with the same size and format`);
process.exit(same === e.length && e.length > 0 ? 0 : 1);' "$1" "$2" "$3"
}
"$BIN" vision --images "$W/img/expected.jsonl" --image-root "$W/img" > "$W/out.jsonl" || fail "exit $? on good images"
compare "$W/img/expected.jsonl" "$W/out.jsonl" generated || fail "probe vs PIL"
[[ $(wc -l < "$W/img/expected.jsonl") -gt 400 ]] || fail "too few generated images"
# Real images: the first 400 files of each kind installed under /usr/share and /usr/lib (icons,
# browser and library resources), as PIL reads them.
find /usr/share /usr/lib -xdev -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.gif' -o -iname '*.bmp' \
  -o -iname '*.webp' -o -iname '*.tif' -o -iname '*.tiff' \) 2>/dev/null | sort | awk -F. '{e=tolower($NF)} c[e]++ < 400' > "$W/real.txt"
$PY - "$W/real.txt" > "$W/real.jsonl" <<'PY'
import json, sys
from PIL import Image
for p in open(sys.argv[1]).read().split("\n"):
    if not p:
        continue
    try:
        with Image.open(p) as im:
            print(json.dumps({"path": p, "width": im.size[0], "height": im.size[1], "format": im.format}))
    except Exception:
        pass  # PIL cannot read it either: not a test case
PY
if [[ -s $W/real.jsonl ]]; then
  "$BIN" vision --images "$W/real.jsonl" > "$W/real.out" 2>/dev/null
  compare "$W/real.jsonl" "$W/real.out" "installed images" || fail "probe vs PIL on installed images"
fi
ls "$W/img/bad" | sed 's/.*/{"path": "bad\/&"}/' > "$W/bad.jsonl"
"$BIN" vision --images "$W/bad.jsonl" --image-root "$W/img" > "$W/bad.out" 2> "$W/err"; rc=$?
[[ $rc == 1 ]] || fail "bad files: exit $rc, want 1"
[[ $(grep -c '"error"' "$W/bad.out") == $(wc -l < "$W/bad.jsonl") ]] || fail "bad files: not one error line each: $(cat "$W/bad.out")"
grep -q 'bad.jsonl:[0-9]*: .*zero.png: PNG: zero width or height' "$W/bad.out" || fail "zero.png message"
grep -q 'loop.jpg: JPEG: .*' "$W/bad.out" || fail "loop.jpg message"
grep -q 'huge.png: PNG: width or height beyond 2^31' "$W/bad.out" || fail "huge.png message"
echo '{"path": "../img/i0.png"}' > "$W/escape.jsonl"
"$BIN" vision --images "$W/escape.jsonl" --image-root "$W/img/bad" > "$W/esc.out" 2>/dev/null
grep -q 'outside the image root' "$W/esc.out" || fail "escape not refused: $(cat "$W/esc.out")"
[[ $("$BIN" vision --vision llava-next --size 672x672 | grep -o '"tokens":[0-9]*') == '"tokens":2928' ]] || fail "--size 672x672"
"$BIN" vision --vision nope --size 1x1 2> "$W/err"; [[ $? == 2 ]] && grep -q "known: llava-1.5" "$W/err" || fail "unknown policy"
"$BIN" vision --size 10by10 2>/dev/null; [[ $? == 2 ]] || fail "bad --size accepted"
echo "vision probe: $fails failure(s)"
exit $((fails > 0))
