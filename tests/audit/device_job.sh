#!/bin/bash
# Device job: LLaVA's own preprocess() outcome per sample with train()'s real pad rule, for
# tokalign audit's parity test. TRANSFORMERS=4.37 loads use_fast=False LlamaTokenizer folders as
# transformers 4.37's slow SentencePiece tokenizer (tests/spm/device/slow_llama.py); the default
# uses the installed transformers. Outcomes go to $OUT/zeroing.jsonl.
set -u
cd .device
Z="vicuna=tok/vicuna:0:v1,llava_v1,mistral_instruct,chatml_direct tinyllama=tok/tinyllama:0:v1,chatml_direct yi=tok/yi:0:v1,chatml_direct mistral=tok/mistral-spm:0:mistral_instruct,llava_llama_2,v1 llama3=tok/llama3:1:v1,chatml_direct qwen3=tok/qwen3:1:chatml_direct,v1,plain"
for impl in llava llava-next; do
  python3 ../tests/compile/device/llava_oracle.py --llava $impl --impl $impl --data data/llava.json data/adversarial.jsonl \
    --out $OUT --transformers ${TRANSFORMERS:-installed} --zeroing $Z 2>&1 | grep -v -i warn | tail -20
done
wc -l $OUT/*
