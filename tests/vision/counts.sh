#!/usr/bin/env bash
# tokalign vision against the original code's visual token counts on 1,324 image sizes
# (tests/vision/vision_counts.tsv, from tests/vision/device/vision_refs.py on the device machine):
# llava-next and llava-onevision against LLaVA-NeXT's own mm_utils + llava_arch.unpad_image,
# qwen2-vl and qwen2.5-vl against transformers' smart_resize (a refused aspect ratio is an error in both).
# Usage: counts.sh TOKALIGN WORKDIR. Exit 77 without node.
set -uo pipefail
BIN=$1 W=$2
command -v node >/dev/null || { echo "SKIP: node is missing"; exit 77; }
mkdir -p "$W"
T=tests/vision/vision_counts.tsv
grep -v '^#' $T | awk -F'\t' '{print "{\"width\":"$1",\"height\":"$2"}"}' > "$W/sizes.jsonl"
for p in llava-next llava-onevision qwen2-vl qwen2.5-vl; do
  "$BIN" vision --vision $p --images "$W/sizes.jsonl" > "$W/$p.jsonl" 2>/dev/null
done
node - "$W" $T <<'JS'
const fs = require("fs"), path = require("path");
const [w, tsv] = process.argv.slice(2);
const lines = fs.readFileSync(tsv, "utf8").split("\n").filter(Boolean);
const header = lines.find((l) => l.startsWith("# width")).slice(2).split("\t");
const rows = lines.filter((l) => !l.startsWith("#")).map((l) => l.split("\t"));
let fails = 0, total = 0;
for (const p of ["llava-next", "llava-onevision", "qwen2-vl", "qwen2.5-vl"]) {
  const col = header.indexOf(p);
  const ours = fs.readFileSync(path.join(w, p + ".jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  let same = 0;
  rows.forEach((r, i) => {
    const got = !ours[i] ? "missing" : ours[i].error ? "error" : String(ours[i].tokens);
    if (got === r[col]) same++;
    else if (fails++ < 10) console.log(`FAIL ${p} ${r[0]}x${r[1]}: original ${r[col]}, tokalign ${got}`);
  });
  total += rows.length;
  console.log(`${p}: ${same}/${rows.length} sizes with the original's count`);
}
process.exit(fails === 0 && total > 0 ? 0 : 1);
JS
