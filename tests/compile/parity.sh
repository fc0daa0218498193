#!/usr/bin/env bash
# Compile parity for one target of tests/compile/pairs.list: compiles the LLaVA samples
# (tests/compile/make_dataset.js) and the adversarial cases (tests/compile/adversarial.jsonl
# plus a record with invalid UTF-8) and checks the result with tests/compile/check.js against
# Hugging Face tokenizers (oracle/hf_prompt_ids.js).
# Usage: parity.sh --bin TOKALIGN --work DIR NAME TOKENIZER TEMPLATE [ALLOWED_REASONS]
# Exit 77 (skip) when node, the oracle packages or ../shared are missing.
set -euo pipefail
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --bin) BIN=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    *) echo "parity.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
NAME=$1 TOK=$2 TEMPLATE=$3 ALLOW=${4:-}
if ! command -v node >/dev/null || [[ ! -d oracle/node_modules/tokenizers ]]; then
  echo "SKIP: node or oracle/node_modules missing (run make deps)"; exit 77
fi
if [[ ! -d ../shared/data/llava-samples ]]; then
  echo "SKIP: ../shared/data/llava-samples is absent"; exit 77
fi
if [[ ! -e $TOK ]]; then
  echo "SKIP: tokenizer $TOK is absent"; exit 77
fi
mkdir -p "$WORK"
# A model folder (e.g. only tokenizer.model): the oracle reads the tokenizer.json tokalign
# converts it to (that conversion is checked against transformers in tests/spm/).
REF_TOK=$TOK
if [[ -d $TOK ]]; then
  REF_TOK=$WORK/tokenizer.json
  "$BIN" export-tokenizer --tokenizer "$TOK" --output "$REF_TOK" || exit 1
fi
node tests/compile/make_dataset.js ../shared/data/llava-samples > "$WORK/llava.json"
{ cat tests/compile/adversarial.jsonl
  printf '{"id": "bad-utf8", "expect": "invalid_utf8", "conversations": [{"from": "human", "value": "caf\xe9"}, {"from": "gpt", "value": "x"}]}\n'
} > "$WORK/adversarial.jsonl"
add=()
if node -e "process.exit(require('./templates/$TEMPLATE.json').add_special_tokens === false ? 0 : 1)" 2>/dev/null; then
  add=(--no-add-special)
fi
rc=0
for set in llava adversarial; do
  data=$WORK/$set.json; [[ $set == adversarial ]] && data=$WORK/adversarial.jsonl
  "$BIN" compile --data "$data" --tokenizer "$TOK" --template "$TEMPLATE" --format jsonl --with-segments \
    --out "$WORK/$set.out.jsonl" --quarantine "$WORK/$set.quarantine.jsonl" 2> "$WORK/$set.log" || { cat "$WORK/$set.log"; exit 1; }
  node oracle/hf_prompt_ids.js --tokenizer "$REF_TOK" "${add[@]}" < "$WORK/$set.out.jsonl" > "$WORK/$set.ref.jsonl"
  allow=$ALLOW
  node tests/compile/check.js --tokenizer "$REF_TOK" --template "$TEMPLATE" --data "$data" --out "$WORK/$set.out.jsonl" \
    --quarantine "$WORK/$set.quarantine.jsonl" --reference "$WORK/$set.ref.jsonl" --allow "$allow" || rc=1
done
exit $rc
