#!/bin/bash
# Device job for transformers 4.37's slow LlamaTokenizer: the encode references
# (slow_transformers_4_37.tsv, from .device/corpus.jsonl = build/parity-corpus.jsonl +
# tests/spm/slow_corpus.jsonl) and LLaVA's preprocess() outcomes with that tokenizer
# (zeroing.jsonl, for tests/audit/llava_outcomes_4_37.tsv).
set -u
(cd .device && python3 ../tests/spm/device/slow_refs.py $OUT 2>&1 | grep -v -i "warn" | tail -20)
TRANSFORMERS=4.37 bash tests/audit/device_job.sh
