#!/bin/bash
# Device job (repository root, .device/ carried: llava-next/, tok/llama3/, data/; docs/HACKING.md):
# LLaVA-NeXT's own preprocess_llama3 (version llama_v3, the tokenizer's own chat template) per
# sample, with input_ids and labels, under transformers 4.x's API (--shim-4x) and 5.x as
# installed. tests/audit/labels_table.js turns the two outcome files into
# tests/audit/llava_next_llama3_outcomes.tsv.
set -u
cd .device
mkdir -p $OUT/v4 $OUT/v5
python3 ../tests/compile/device/llava_oracle.py --llava llava-next --impl llava-next --data data/llava.json data/adversarial.jsonl \
  --out $OUT/v4 --transformers 4.37 --shim-4x --labels --zeroing llama3=tok/llama3:1:llava_llama_3 2>&1 | grep -v -i warn | tail -5
python3 ../tests/compile/device/llava_oracle.py --llava llava-next --impl llava-next --data data/llava.json data/adversarial.jsonl \
  --out $OUT/v5 --labels --zeroing llama3=tok/llama3:1:llava_llama_3 2>&1 | grep -v -i warn | tail -5
wc -l $OUT/v4/* $OUT/v5/*
grep -h '"error": "' $OUT/v5/zeroing.jsonl | head -3
