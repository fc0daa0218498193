#!/usr/bin/env bash
# compile --labels llava / llava-next against LLaVA's own preprocess() output: for the
# combinations where LLaVA zeroes nothing (Vicuna v1/llava_v1, Mistral mistral_instruct/
# llava_llama_2, Yi chatml_direct under LLaVA-NeXT), the ids AND labels tokalign writes equal
# LLaVA's, sample for sample (hashes in tests/compile/llava_labels.tsv, made on the device
# machine with transformers 5.17, which loads these tokenizer.model folders as tokalign does).
# Usage: llava_labels.sh TOKALIGN WORKDIR. Exit 77 without node or ../shared.
set -uo pipefail
BIN=$1 W=$2
[[ -d ../shared/data/tokenizers ]] || { echo "SKIP: ../shared/data/tokenizers is absent"; exit 77; }
source tests/lib/llava_data.sh
llava_data "$W"
source tests/lib/spm_folders.sh
spm_folders "$W"
rc=0
while IFS=$'\t' read -r impl tok tmpl; do
  labels=llava; place=llava
  [[ $impl == llava-next ]] && { labels=llava-next; place=llava-next; }
  out=$W/$impl-$tok-$tmpl.jsonl
  "$BIN" compile --data "$W/llava.json" --tokenizer "${SPM_DIRS[$tok]}" --template "$tmpl" --labels $labels \
    --image-placement $place --format jsonl --out "$out" --quarantine "$W/q.jsonl" 2>/dev/null || rc=1
done < <(grep -v '^#' tests/compile/llava_labels.tsv | cut -f1-3 | sort -u)
node - "$W" tests/compile/llava_labels.tsv <<'JS' || rc=1
const crypto = require("crypto");
const { readTable, byIdLoader } = require(process.cwd() + "/tests/lib/device_table.js");
const [w, tsv] = process.argv.slice(2);
const h = (v) => crypto.createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 16);
const ours = byIdLoader(w);
let ids = 0, labels = 0, n = 0;
const fails = [];
for (const [impl, tok, tmpl, id, hi, hl] of readTable(tsv)) {
  const key = `${impl}-${tok}-${tmpl}`;
  n++;
  const o = ours(key).get(id);
  if (o && h(o.input_ids) === hi) ids++;
  else if (fails.length < 10) fails.push(`${key} ${id}: ids differ from LLaVA's`);
  if (o && h(o.labels) === hl) labels++;
  else if (fails.length < 10) fails.push(`${key} ${id}: labels differ from LLaVA's`);
}
console.log(`compile --labels llava/llava-next vs LLaVA's own preprocess(): ids equal ${ids}/${n}, labels equal ${labels}/${n}`);
for (const f of fails) console.log("FAIL " + f);
process.exit(ids === n && labels === n && n > 0 ? 0 : 1);
JS
exit $rc
