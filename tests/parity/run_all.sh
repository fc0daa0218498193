#!/usr/bin/env bash
# Runs tests/parity/parity.sh for every target in tests/parity/tokenizers.list.
#
#   tests/parity/run_all.sh --bin PATH/TO/tokalign [--corpus FILE] [--only NAME]...
#       [--no-add-special] [--no-parse-special] [--offsets]
#   tests/parity/run_all.sh --oracle-only [...]   # fill the oracle cache, print timings
#
# Without --corpus the full corpus (corpus.jsonl + generated long lines) is
# built into build/parity-corpus/full.jsonl. Ends with one line
# "N passed, N failed, N skipped"; exit 1 if any target failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 2

bin="" corpus="" oracle_only=0
only=() flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    --only) only+=("$2"); shift 2 ;;
    --oracle-only) oracle_only=1; shift ;;
    --no-add-special|--no-parse-special|--offsets) flags+=("$1"); shift ;;
    *) echo "run_all.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ -z "$bin" ] && [ $oracle_only = 0 ]; then
  echo "usage: $0 --bin PATH [--corpus FILE] [--only NAME]... [flags] | --oracle-only [...]" >&2
  exit 2
fi
if [ -z "$corpus" ]; then
  corpus=build/parity-corpus/full.jsonl
  tests/corpus/build_corpus.sh "$corpus" || exit 2
fi

pass=0 fail=0 skip=0
failed=()
while read -r name path; do
  case "$name" in ''|\#*) continue ;; esac
  if [ ${#only[@]} -gt 0 ]; then
    hit=0; for o in "${only[@]}"; do [ "$o" = "$name" ] && hit=1; done
    [ $hit = 1 ] || continue
  fi
  suffix=""; for f in "${flags[@]+"${flags[@]}"}"; do suffix="$suffix$f"; done
  args=(--tokenizer "$path" --corpus "$corpus" --name "$name$suffix" "${flags[@]+"${flags[@]}"}")
  if [ $oracle_only = 1 ]; then args=(--oracle-only "${args[@]}"); else args=(--bin "$bin" "${args[@]}"); fi
  t0=$(date +%s.%N)
  tests/parity/parity.sh "${args[@]}"
  rc=$?
  t1=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
  case $rc in
    0) pass=$((pass + 1)); echo "  ($name: ${secs}s)" ;;
    77) skip=$((skip + 1)) ;;
    *) fail=$((fail + 1)); failed+=("$name"); echo "  ($name: FAILED rc=$rc, ${secs}s)" ;;
  esac
done < tests/parity/tokenizers.list

[ $fail -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
