#!/usr/bin/env bash
# Parity harness: encodes a JSONL corpus with the Hugging Face oracle
# (oracle/hf_encode.js, the real HF tokenizers core) and with our binary,
# and compares the two line by line.
#
#   tests/parity/parity.sh --bin PATH/TO/tokalign --tokenizer PATH/tokenizer.json
#       --corpus CORPUS.jsonl [--no-add-special] [--no-parse-special] [--offsets]
#       [--name NAME]
#   tests/parity/parity.sh --oracle-only --tokenizer ... --corpus ... [flags]
#       (only computes/caches the oracle output; no --bin needed)
#
# Our side is run as (the contract):
#   tokalign encode --tokenizer PATH --jsonl [--no-add-special]
#       [--no-parse-special] [--offsets] < CORPUS > ours.jsonl
#
# Exit status: 0 all lines identical; 1 a mismatch or our binary failed;
# 2 bad usage / broken environment; 77 skipped (tokenizer lives under an
# absent shared/ directory) -- ctest's SKIP_RETURN_CODE.
#
# Environment:
#   PARITY_CACHE  where oracle outputs are cached (default: <repo>/build/parity-cache).
#                 Key: sha256 of tokenizer file + flags + corpus (+ the oracle
#                 script and oracle/package-lock.json, so a changed oracle
#                 never reuses stale output).
#   PARITY_OUT    where our output for the run is kept (default: <repo>/build/parity-out).
#   NODE          node executable (default: node).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NODE=${NODE:-node}

usage() {
  echo "usage: $0 --bin PATH --tokenizer PATH --corpus FILE [--no-add-special] [--no-parse-special] [--offsets] [--name NAME]" >&2
  exit 2
}

bin="" tok="" corpus="" name="" oracle_only=0
flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) [ $# -ge 2 ] || usage; bin=$2; shift 2 ;;
    --tokenizer) [ $# -ge 2 ] || usage; tok=$2; shift 2 ;;
    --corpus) [ $# -ge 2 ] || usage; corpus=$2; shift 2 ;;
    --name) [ $# -ge 2 ] || usage; name=$2; shift 2 ;;
    --oracle-only) oracle_only=1; shift ;;
    --no-add-special|--no-parse-special|--offsets) flags+=("$1"); shift ;;
    -h|--help) usage ;;
    *) echo "parity.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[ -n "$tok" ] && [ -n "$corpus" ] || usage
[ -n "$bin" ] || [ $oracle_only = 1 ] || usage

# Canonical flag order, so the cache key does not depend on argument order.
canon=()
for f in --no-add-special --no-parse-special --offsets; do
  for g in "${flags[@]+"${flags[@]}"}"; do
    if [ "$f" = "$g" ]; then canon+=("$f"); break; fi
  done
done
offsets_flag=()
for f in "${canon[@]+"${canon[@]}"}"; do [ "$f" = --offsets ] && offsets_flag=(--offsets); done

if [ -z "$name" ]; then
  d=$(dirname "$tok")
  [ "$(basename "$d")" = models ] && d=$(dirname "$d")
  name=$(basename "$d"); name=${name#tokenizer-}
  for f in "${canon[@]+"${canon[@]}"}"; do name="$name$f"; done
fi

if [ ! -f "$tok" ]; then
  # Skip only when the whole shared/ directory is missing (some machines do
  # not have it); a missing file inside an existing shared/ is an error.
  case "/$tok" in
    */shared/*)
      shared_dir="${tok%%shared/*}shared"
      if [ ! -d "$shared_dir" ]; then
        echo "SKIP: ../shared absent ($shared_dir not found; needed for $tok)"
        echo "parity $name: skipped"
        exit 77
      fi ;;
  esac
  echo "parity.sh: tokenizer not found: $tok" >&2
  exit 2
fi
[ -f "$corpus" ] || { echo "parity.sh: corpus not found: $corpus" >&2; exit 2; }
if [ $oracle_only = 0 ] && ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "$bin" ]; then
  echo "parity.sh: binary not found or not executable: $bin" >&2
  exit 2
fi
command -v "$NODE" >/dev/null 2>&1 || { echo "parity.sh: node not found (set NODE=...)" >&2; exit 2; }
if [ ! -d "$ROOT/oracle/node_modules/tokenizers" ]; then
  echo "parity.sh: oracle not installed; run: npm ci --prefix oracle" >&2
  exit 2
fi

cache=${PARITY_CACHE:-$ROOT/build/parity-cache}
outdir=${PARITY_OUT:-$ROOT/build/parity-out}
mkdir -p "$cache" "$outdir"

key=$({
  printf 'tokenizer '; sha256sum < "$tok"
  printf 'flags %s\n' "${canon[*]-}"
  printf 'corpus '; sha256sum < "$corpus"
  printf 'oracle '; sha256sum < "$ROOT/oracle/hf_encode.js"
  printf 'lock '; if [ -f "$ROOT/oracle/package-lock.json" ]; then sha256sum < "$ROOT/oracle/package-lock.json"; else echo none; fi
} | sha256sum | cut -c1-64)
expected="$cache/$key.jsonl"

hf_rejects=0
if [ ! -f "$expected" ]; then
  tmp=$(mktemp "$cache/.$key.XXXXXX")
  set +e
  "$NODE" "$ROOT/oracle/hf_encode.js" --tokenizer "$tok" "${canon[@]+"${canon[@]}"}" < "$corpus" > "$tmp"
  orc=$?
  set -e
  if [ $orc -eq 4 ]; then
    # HF itself refuses this tokenizer file: parity then means we refuse it too.
    rm -f "$tmp"
    hf_rejects=1
  elif [ $orc -ne 0 ]; then
    rm -f "$tmp"
    echo "parity.sh: oracle failed (status $orc) for $tok" >&2
    exit 2
  else
    mv -f "$tmp" "$expected"
  fi
fi
if [ $oracle_only = 1 ]; then
  if [ $hf_rejects = 1 ]; then echo "oracle $name: HF rejects the tokenizer file"
  else echo "oracle $name: $(wc -l < "$expected") lines -> $expected"; fi
  exit 0
fi

safe_name=$(printf '%s' "$name" | tr -c 'A-Za-z0-9._-' '_')
ours="$outdir/$safe_name.ours.jsonl"
errf="$outdir/$safe_name.ours.stderr"
set +e
"$bin" encode --tokenizer "$tok" --jsonl "${canon[@]+"${canon[@]}"}" < "$corpus" > "$ours" 2> "$errf"
rc=$?
set -e
if [ $hf_rejects = 1 ]; then
  if [ $rc -ne 0 ]; then
    echo "  HF and ours both reject $tok (ours: status $rc: $(tail -n 1 "$errf"))"
    echo "parity $name: tokenizer rejected by both"
    exit 0
  fi
  echo "  HF rejects $tok, but our binary accepted it and exited 0"
  echo "parity $name: 0/$(wc -l < "$corpus") identical (HF rejects the tokenizer)"
  exit 1
fi
if [ $rc -ne 0 ]; then
  echo "  our binary exited with status $rc; last lines of its stderr:"
  tail -n 5 "$errf" | sed 's/^/    /'
fi

set +e
"$NODE" "$ROOT/tests/parity/compare.js" --corpus "$corpus" --expected "$expected" --actual "$ours" \
  --name "$name" "${offsets_flag[@]+"${offsets_flag[@]}"}"
crc=$?
set -e
if [ $crc -eq 0 ] && [ $rc -ne 0 ]; then crc=1; fi
if [ $crc -eq 0 ]; then rm -f "$errf"; fi
exit $crc
