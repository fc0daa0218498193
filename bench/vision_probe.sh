#!/usr/bin/env bash
# Image header probing throughput, side by side with the peer in one run: `tokalign vision
# --images` against PIL's Image.open(path).size (Debian python3-pil, what LLaVA uses to get the
# size; it also reads only a header prefix), one core each, the same N files from page cache,
# whole process, median of 7 runs after a warm-up (hyperfine). Sizes are checked equal first.
# Usage: bench/vision_probe.sh [BUILD_DIR] [COPIES]  (default build, 40 copies of 461 images).
set -euo pipefail
B=${1:-build} COPIES=${2:-40}
W=$(mktemp -d /tmp/tokalign-vision-bench.XXXX)
trap 'rm -rf "$W"' EXIT
/usr/bin/python3 tests/vision/make_images.py "$W/src" 2>/dev/null
mkdir -p "$W/img"
: > "$W/list.jsonl"
: > "$W/list.txt"
for c in $(seq 1 "$COPIES"); do
  mkdir -p "$W/img/$c"
  cp "$W"/src/*.* "$W/img/$c/" 2>/dev/null
  rm -f "$W/img/$c/expected.jsonl"
done
find "$W/img" -type f | sort > "$W/list.txt"
sed 's/.*/{"path":"&"}/' "$W/list.txt" > "$W/list.jsonl"
N=$(wc -l < "$W/list.txt")
cat > "$W/pil.py" <<'PY'
import sys
from PIL import Image
n = 0
for line in open(sys.argv[1]):
    with Image.open(line.rstrip("\n")) as im:
        n += im.size[0] + im.size[1]
print(n)
PY
cat "$W"/list.txt > /dev/null  # page cache
ours=$("$B/tokalign" vision --images "$W/list.jsonl" | node -e 'let s=0;for(const l of require("fs").readFileSync(0,"utf8").split("\n"))if(l){const o=JSON.parse(l);s+=o.width+o.height}console.log(s)')
peer=$(/usr/bin/python3 "$W/pil.py" "$W/list.txt")
[ "$ours" = "$peer" ] || { echo "sizes differ: tokalign $ours, PIL $peer"; exit 1; }
hyperfine -N --warmup 1 --runs 7 --export-json "$W/h.json" \
  -n tokalign "taskset -c 0 $B/tokalign vision --images $W/list.jsonl -o /dev/null" \
  -n PIL "taskset -c 0 /usr/bin/python3 $W/pil.py $W/list.txt" > /dev/null
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results, n = +process.argv[2];
const m = Object.fromEntries(r.map((x) => [x.command, x.median]));
console.log(`| images | tokalign s | PIL s | tokalign images/s | PIL images/s | ratio |`);
console.log(`|---|---|---|---|---|---|`);
console.log(`| ${n} | ${m.tokalign.toFixed(3)} | ${m.PIL.toFixed(3)} | ${Math.round(n / m.tokalign)} | ${Math.round(n / m.PIL)} | ${(m.PIL / m.tokalign).toFixed(1)}x |`);' "$W/h.json" "$N"
