#!/usr/bin/env bash
# compile --vision: image counts from file headers in the compiled samples. With --image-tokens
# expand every image slot is as long as `tokalign vision --image` says; with placeholders the JSONL
# gives each image's size and count and the sample's length with images counted; --max-len counts
# images either way; an unreadable or escaping image quarantines its sample (image_unreadable); the
# shard's images.bin carries width and height and lengths.bin LLaVA's modality_lengths; stats shows tokens per image and counts images
# against --max-len.
# Usage: compile.sh TOKALIGN WORKDIR (exit 77 without ../shared or node).
set -uo pipefail
BIN=$1 W=$2
V=../shared/data/tokenizers/vicuna-7b-v1.5
[[ -d $V ]] || { echo "SKIP: $V is absent"; exit 77; }
command -v node >/dev/null || { echo "SKIP: node is missing"; exit 77; }
rm -rf "$W" && mkdir -p "$W"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
C=("$BIN" compile -d examples/llava_demo.json -t $V --template llava_v1 --vision llava-next --image-root examples)
for f in examples/images/*.png; do
  echo "$(basename "$f") $("$BIN" vision --vision llava-next --image "$f" | grep -o '"tokens":[0-9]*' | cut -d: -f2)"
done > "$W/counts.txt"
"${C[@]}" --image-tokens expand --image-token '<unk>' --format jsonl -o "$W/expand.jsonl" 2>/dev/null
"${C[@]}" --format jsonl -o "$W/placeholder.jsonl" 2>/dev/null
node - "$W" <<'JS' || fail "expand / placeholder counts"
const fs = require("fs"), w = process.argv[2];
const counts = Object.fromEntries(fs.readFileSync(w + "/counts.txt", "utf8").trim().split("\n").map((l) => l.split(" ")));
const read = (f) => fs.readFileSync(`${w}/${f}`, "utf8").split("\n").filter(Boolean).map(JSON.parse);
const ex = read("expand.jsonl"), ph = read("placeholder.jsonl");
let bad = 0, images = 0;
ex.forEach((s, i) => {
  const p = ph[i];
  (s.images || []).forEach((path, k) => {
    images++;
    const want = +counts[path.split("/").pop()];
    if (s.image_tokens[k].tokens !== want || p.image_tokens[k].tokens !== want) { bad++; console.log("count", s.id, path); }
  });
  const unk = s.input_ids.filter((x) => x === 0).length;
  const sum = (s.image_tokens || []).reduce((a, t) => a + t.tokens, 0);
  if (unk !== sum) { bad++; console.log("expanded", s.id, unk, sum); }
  if ((s.length_with_images || s.input_ids.length) !== s.input_ids.length) { bad++; console.log("expand length", s.id); }
  const holes = p.input_ids.filter((x) => x === -200).length;
  if (p.image_tokens && p.length_with_images !== p.input_ids.length - holes + sum) { bad++; console.log("placeholder length", p.id); }
  if (p.image_tokens && p.length_with_images !== s.input_ids.length) { bad++; console.log("lengths differ", p.id); }
});
console.log(`compile --vision: ${images} images, ${bad} problem(s)`);
process.exit(bad || images < 4 ? 1 : 0);
JS
"${C[@]}" --max-len 2000 --format jsonl -o "$W/maxlen.jsonl" 2>/dev/null
grep -q '"id":"demo-2".*"reason":"too_long".*2404 tokens (images counted), over --max-len 2000' "$W/maxlen.quarantine.jsonl" \
  || fail "max-len with images: $(cat "$W/maxlen.quarantine.jsonl")"
grep -q '"id":"demo-1"' "$W/maxlen.jsonl" || fail "demo-1 should fit in 2000"
printf '%s\n' '{"id":"missing","image":"images/nope.png","conversations":[{"from":"human","value":"<image>\nHi"},{"from":"gpt","value":"Hello"}]}' \
  '{"id":"escape","image":"../README.md","conversations":[{"from":"human","value":"<image>\nHi"},{"from":"gpt","value":"Hello"}]}' > "$W/bad.jsonl"
"$BIN" compile -d "$W/bad.jsonl" -t $V --template llava_v1 --vision llava-1.5 --image-root examples --format jsonl -o "$W/bad.out.jsonl" 2>/dev/null
grep -q '"id":"missing".*"reason":"image_unreadable".*nope.png: cannot open' "$W/bad.out.quarantine.jsonl" || fail "missing image"
grep -q '"id":"escape".*"reason":"image_unreadable".*outside the image root' "$W/bad.out.quarantine.jsonl" || fail "escaping image"
"${C[@]}" --out "$W/shard" 2>/dev/null
/usr/bin/python3 - "$W/shard" "$W/placeholder.jsonl" <<'PY' || fail "images.bin width/height, lengths.bin"
import sys, numpy as np
t = np.dtype([("path_offset", "<u8"), ("path_length", "<u4"), ("sample", "<u4"), ("position", "<u4"), ("token_count", "<u4"),
              ("width", "<u4"), ("height", "<u4")])
im = np.fromfile(sys.argv[1] + "/images.bin", dtype=t)
assert len(im) == 5 and (im["width"] > 0).all() and (im["height"] > 0).all(), im
assert sorted(set(zip(im["width"].tolist(), im["height"].tolist()))) == [(120, 360), (320, 240), (336, 336), (640, 480)], im
sys.path.insert(0, "python")
import json, tokalign_shard
sh = tokalign_shard.Shard(sys.argv[1])
want = [s.get("length_with_images", -len(s["input_ids"])) for s in map(json.loads, open(sys.argv[2]))]
assert list(sh.modality_lengths) == want, (list(sh.modality_lengths), want)
PY
"$BIN" compile -d examples/llava_demo.json -t $V --template llava_v1 --vision nope --out "$W/x" 2>/dev/null; [[ $? == 2 ]] || fail "unknown --vision"
# stats --vision: tokens per image, length with images, over --max-len counting images.
"$BIN" stats -d examples/llava_demo.json -t $V --template llava_v1 --vision llava-next --image-root examples --max-len 2000 --json \
  > "$W/stats.json" 2>/dev/null
node -e 'const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const ok = o.over_max_len === 2 && o.tokens_per_image.n === 5 && o.tokens_per_image.max === 2340 && o.length_with_images.max === 2602;
  if (!ok) { console.log(JSON.stringify(o)); process.exit(1); }' "$W/stats.json" || fail "stats --vision"
echo "compile --vision: $fails failure(s)"
exit $((fails > 0))
