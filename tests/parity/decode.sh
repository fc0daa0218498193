#!/usr/bin/env bash
# Decode parity for a real tokenizer: the corpus encoded by HF plus 200 deterministic
# pseudo-random id sequences, decoded by HF and by tokalign, with and without
# --skip-special (tests/components/decode_check.js does the work).
#   tests/parity/decode.sh --bin PATH --tokenizer FILE --corpus FILE --name NAME --work DIR
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin="" tok="" corpus="" name="" work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;; --tokenizer) tok=$2; shift 2 ;; --corpus) corpus=$2; shift 2 ;;
    --name) name=$2; shift 2 ;; --work) work=$2; shift 2 ;;
    *) echo "decode.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$tok" in ../shared/*|*/../shared/*) [ -d "$ROOT/../shared" ] || { echo "SKIP: ../shared absent"; exit 77; } ;; esac
command -v node >/dev/null && [ -d "$ROOT/oracle/node_modules/tokenizers" ] || { echo "SKIP: node or oracle/ missing (make deps)"; exit 77; }
if ! node -e 'require(process.argv[1]).Tokenizer.fromFile(process.argv[2])' "$ROOT/oracle/node_modules/tokenizers" "$tok" 2>/dev/null; then
  # The parity test checks that tokalign refuses such a file too.
  echo "SKIP: Hugging Face refuses to load $tok: nothing to decode"
  exit 77
fi
mkdir -p "$work"
extra="$work/random_ids.jsonl"
vocab=$(node -e 'const t=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const v=t.model.vocab;console.log(Array.isArray(v)?v.length:Object.keys(v).length)' "$tok")
node -e '
  const n = +process.argv[1]; let x = 2463534242, s = "";
  const r = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  for (let i = 0; i < 200; i++) { const ids = []; for (let k = 0; k < 1 + (r() % 24); k++) ids.push(r() % n); s += JSON.stringify({ ids }) + "\n"; }
  require("fs").writeFileSync(process.argv[2], s);' "$vocab" "$extra"
exec node "$ROOT/tests/components/decode_check.js" --bin "$bin" --tokenizer "$tok" --corpus "$corpus" \
  --extra "$extra" --work "$work/cache" --name "$name"
