#!/usr/bin/env bash
# Component parity: small tokenizers trained by the real Hugging Face core (see
# make_fixtures.js) that exercise the models, normalizers, pre-tokenizers,
# post-processors, decoders and added-token options no real tokenizer of
# tests/parity/tokenizers.list uses. For every fixture:
#   special  tests/parity/parity.sh --offsets                    (ids + offsets)
#   plain    tests/parity/parity.sh --offsets --no-add-special
#   decode   decode_check.js: HF-encoded ids (+ random ids) decoded by HF and by us,
#            with and without --skip-special
# Sweep fixtures (sweep_*) get one check instead, "sweep": parity.sh --offsets
# --no-add-special on sweep.jsonl, every code point of planes 0-1 (and samples of the others).
# A fixture HF refuses to load (hf_rejects) passes when our binary refuses it too.
#
#   tests/components/run.sh BUILD_DIR [--bin PATH] [-j JOBS] [--only NAME,NAME...]
#
# Fixtures, the corpus and HF's outputs are cached under BUILD_DIR/components/
# (fixtures are regenerated when make_fixtures.js, inputs.jsonl, the corpus
# sources, the oracle lock file or the shared/ training texts change).
# Prints one line per fixture with the status of each of its checks, the mismatch
# details of the failed ones, and a last line "N passed, N failed, N skipped" (counting
# checks). Exit 0 when nothing failed, 1 otherwise,
# 2 on bad usage, 77 when node or the oracle (oracle/node_modules) is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/tests/components"
NODE=${NODE:-node}
export NODE

usage() { echo "usage: $0 BUILD_DIR [--bin PATH] [-j JOBS] [--only NAME,NAME...]" >&2; exit 2; }

build="" bin="" jobs=${COMPONENT_JOBS:-2} only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) [ $# -ge 2 ] || usage; bin=$2; shift 2 ;;
    -j) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
    --only) [ $# -ge 2 ] || usage; only=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "run.sh: unknown option: $1" >&2; usage ;;
    *) [ -z "$build" ] || usage; build=$1; shift ;;
  esac
done
[ -n "$build" ] || usage
mkdir -p "$build"
build=$(cd "$build" && pwd)
[ -n "$bin" ] || bin="$build/tokalign"

if ! command -v "$NODE" >/dev/null 2>&1; then
  echo "SKIP: node not found (set NODE=...)"; echo "0 passed, 0 failed, 1 skipped"; exit 77
fi
if [ ! -d "$ROOT/oracle/node_modules/tokenizers" ]; then
  echo "SKIP: oracle not installed (npm ci --prefix oracle)"; echo "0 passed, 0 failed, 1 skipped"; exit 77
fi
if [ ! -x "$bin" ]; then echo "run.sh: binary not found or not executable: $bin" >&2; exit 2; fi

work="$build/components"
# Our own copy of the binary, so that a rebuild during the run cannot break it.
mkdir -p "$work"
if cp -f "$bin" "$work/tokalign.under-test" 2>/dev/null; then bin="$work/tokalign.under-test"; fi
fixtures="$work/fixtures"
logs="$work/logs"
mkdir -p "$work" "$logs"

# --- fixtures (cached) -------------------------------------------------------
stamp=$({
  for f in "$HERE/make_fixtures.js" "$HERE/inputs.jsonl" "$ROOT/tests/corpus/corpus.jsonl" \
           "$ROOT/tests/corpus/make_long.js" "$ROOT/oracle/package-lock.json"; do
    printf '%s ' "$f"; if [ -f "$f" ]; then sha256sum < "$f"; else echo none; fi
  done
  for f in "$ROOT/../shared/data/text/pride_and_prejudice.txt" "$ROOT/../shared/data/text/wagahai.txt"; do
    printf '%s ' "$f"; if [ -f "$f" ]; then stat -c '%s %Y' "$f"; else echo none; fi
  done
  [ -z "${COMPONENT_FIXTURES-}" ] || echo "only $COMPONENT_FIXTURES"
} | sha256sum | cut -c1-64)
if [ ! -f "$fixtures/.stamp" ] || [ "$(cat "$fixtures/.stamp")" != "$stamp" ]; then
  echo "generating fixtures in $fixtures ..."
  rm -rf "$fixtures"
  t0=$(date +%s)
  if ! "$NODE" "$HERE/make_fixtures.js" "$fixtures" > "$work/make_fixtures.log" 2>&1; then
    tail -n 20 "$work/make_fixtures.log" >&2
    echo "run.sh: make_fixtures.js failed" >&2
    exit 2
  fi
  echo "$stamp" > "$fixtures/.stamp"
  echo "generated $(wc -l < "$fixtures/fixtures.list") fixtures in $(( $(date +%s) - t0 )) s"
fi
corpus="$fixtures/corpus.jsonl"

# --- one fixture ---------------------------------------------------------------
# Writes $logs/NAME.log; its last lines are "RESULT check status" records.
check_fixture() {
  local name=$1 dir="$fixtures/$1" log="$logs/$1.log"
  local tok="$dir/tokenizer.json"
  : > "$log"
  export PARITY_CACHE="$work/cache" PARITY_OUT="$work/out"
  if grep -q '"hf_rejects": true' "$dir/meta.json"; then
    local hs=0 os=0
    # (in a subshell whose stderr is kept: HF may abort, and bash reports that on stderr)
    ( printf '{"text":"a b"}\n' | "$NODE" "$ROOT/oracle/hf_encode.js" --tokenizer "$tok" > "$dir/hf_load.out" ) \
      2> "$dir/hf_load.err" || hs=$?
    if [ $hs -ne 0 ]; then
      printf '{"text":"a b"}\n' | "$bin" encode --tokenizer "$tok" --jsonl > "$dir/ours_load.out" 2> "$dir/ours_load.err" || os=$?
      if [ $os -ne 0 ]; then
        echo "  HF refuses the file (status $hs) and so do we (status $os: $(tail -n 1 "$dir/ours_load.err"))" >> "$log"
        echo "RESULT load pass" >> "$log"
      else
        echo "  HF refuses the file (status $hs: $(grep -m1 -i 'panicked\|error' "$dir/hf_load.err" | head -c 300))" >> "$log"
        grep -m1 -A1 'panicked' "$dir/hf_load.err" | sed 's/^/    hf: /' >> "$log" || true
        echo "  but our binary accepts it: {\"text\":\"a b\"} -> $(cat "$dir/ours_load.out")" >> "$log"
        echo "RESULT load fail" >> "$log"
      fi
      return 0
    fi
    echo "  (HF accepts this hf_rejects fixture: checked like the others)" >> "$log"
  fi
  local rc modes=(special plain) corp="$corpus"
  if grep -q '"sweep": true' "$dir/meta.json"; then modes=(sweep); corp="$fixtures/sweep.jsonl"; fi
  for mode in "${modes[@]}"; do
    local flags=(--offsets)
    [ $mode = special ] || flags+=(--no-add-special)
    rc=0
    bash "$ROOT/tests/parity/parity.sh" --bin "$bin" --tokenizer "$tok" --corpus "$corp" \
      --name "${name}_$mode" "${flags[@]}" >> "$log" 2>&1 || rc=$?
    case $rc in 0) echo "RESULT $mode pass" >> "$log" ;; 77) echo "RESULT $mode skip" >> "$log" ;;
      *) echo "RESULT $mode fail" >> "$log" ;; esac
  done
  [ "${modes[0]}" != sweep ] || return 0
  rc=0
  "$NODE" "$HERE/decode_check.js" --bin "$bin" --tokenizer "$tok" --corpus "$corpus" \
    --extra "$dir/decode_extra.jsonl" --work "$work/decode-cache" --name "$name" >> "$log" 2>&1 || rc=$?
  if [ $rc -eq 0 ]; then echo "RESULT decode pass" >> "$log"; else echo "RESULT decode fail" >> "$log"; fi
}

names=()
while IFS=$'\t' read -r name _; do
  [ -n "$name" ] || continue
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
  names+=("$name")
done < "$fixtures/fixtures.list"
[ ${#names[@]} -gt 0 ] || { echo "run.sh: no fixture selected" >&2; exit 2; }

t0=$(date +%s)
running=0
for name in "${names[@]}"; do
  check_fixture "$name" &
  running=$((running + 1))
  if [ $running -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait

# Known differences (tests/components/known_differences.txt: NAME  reason): a fixture
# listed there that fails is reported as "known" and does not fail the run; one that
# passes is reported so the entry can go.
known_file="$ROOT/tests/components/known_differences.txt"
is_known() { [ -f "$known_file" ] && grep -q "^$1[[:space:]]" "$known_file"; }

pass=0 fail=0 skip=0 known=0
for name in "${names[@]}"; do
  log="$logs/$name.log"
  line="" bad=0
  if is_known "$name"; then
    if grep -q '^RESULT .* fail' "$log"; then
      echo "known $name: $(grep "^$name[[:space:]]" "$known_file" | cut -f2- | sed 's/^[[:space:]]*//')"
      known=$((known + 1))
      continue
    fi
    echo "note $name is listed in known_differences.txt but now passes: remove it"
  fi
  while read -r _ check status; do
    line="$line $check=$status"
    case $status in pass) pass=$((pass + 1)) ;; skip) skip=$((skip + 1)) ;; *) fail=$((fail + 1)); bad=1 ;; esac
  done < <(grep '^RESULT ' "$log" || true)
  if [ -z "$line" ]; then line=" (no result)"; fail=$((fail + 1)); bad=1; fi
  if [ $bad = 1 ]; then
    echo "FAIL $name:$line"
    grep -v '^RESULT ' "$log" | sed 's/^/     /' || true
  else
    echo "ok   $name:$line"
  fi
done
echo "component parity: ${#names[@]} fixtures in $(( $(date +%s) - t0 )) s, $known known differences (logs: $logs)"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
