#!/bin/bash
# Device job (run from the repository root with .device/ carried, see docs/HACKING.md): LLaVA's own input_ids and labels for tokenizers transformers 5.17 loads the way
# tokalign converts them (tokenizer.model folders), to compare with compile --labels llava.
set -u
cd .device
python3 ../tests/compile/device/llava_oracle.py --llava llava --impl llava --data data/llava.json --out $OUT --labels \
  --zeroing vicuna=tok/vicuna:0:v1,llava_v1 mistral=tok/mistral-spm:0:mistral_instruct,llava_llama_2 2>&1 | grep -v -i warn | tail -5
python3 ../tests/compile/device/llava_oracle.py --llava llava-next --impl llava-next --data data/llava.json --out $OUT --labels \
  --zeroing yi=tok/yi:0:chatml_direct vicuna=tok/vicuna:0:v1 mistral=tok/mistral-spm:0:mistral_instruct 2>&1 | grep -v -i warn | tail -5
wc -l $OUT/*
