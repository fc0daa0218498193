#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time and prints a summary.
#
#   fuzz/run.sh BUILD_DIR            (make fuzz runs: fuzz/run.sh build-fuzz)
#
# Environment:
#   FUZZ_SECONDS               seconds per target (default 60)
#   FUZZ_TARGETS               targets to run (default "fuzz_loader fuzz_encode fuzz_bpe_image fuzz_compile fuzz_spm_model fuzz_audit fuzz_slow_llama fuzz_image_probe fuzz_guard_log fuzz_parts fuzz_jinja fuzz_record_stream fuzz_cgroup fuzz_sha256_pair")
#   FUZZ_JOBS                  parallel fuzzing processes per target (default 1)
#   FUZZ_ARTIFACTS             where crash/leak/timeout/oom reproducers go
#                              (default BUILD_DIR/fuzz-artifacts)
#   TOKALIGN_FUZZ_TOKENIZERS   colon-separated tokenizer.json paths for fuzz_encode
#
# The seeds in fuzz/corpus/<target>/ are read, never written: new inputs go to a working
# corpus in BUILD_DIR/fuzz-corpus/<target>/, kept between runs.
# Exit status: 0 when no target found anything, 1 when one did (reproducers are listed;
# replay one with BUILD_DIR/fuzz/TARGET FILE), 2 on bad usage or a missing build.
set -uo pipefail

usage() { echo "usage: fuzz/run.sh BUILD_DIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
build=$(cd "$1" 2>/dev/null && pwd) || { echo "fuzz/run.sh: no build directory $1" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"fuzz_loader fuzz_encode fuzz_bpe_image fuzz_compile fuzz_spm_model fuzz_audit fuzz_slow_llama fuzz_image_probe fuzz_guard_log fuzz_parts fuzz_jinja fuzz_record_stream fuzz_cgroup fuzz_sha256_pair"}
jobs=${FUZZ_JOBS:-1}
artifacts=${FUZZ_ARTIFACTS:-$build/fuzz-artifacts}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz/run.sh: FUZZ_SECONDS must be a number of seconds" >&2; exit 2; }
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz/run.sh: FUZZ_JOBS must be a positive number" >&2; exit 2; }

# max_len: a tokenizer.json worth mutating is a few KB; texts up to 2 KB reach every path
# of the pipeline (long words take BPE's heap merge loop) and stay fast under ASan; an
# image input is a list of 3-byte edits, a few hundred of which are plenty.
max_len_of() { case $1 in fuzz_loader|fuzz_compile|fuzz_audit|fuzz_jinja) echo 4096 ;; fuzz_bpe_image) echo 600 ;; *) echo 2048 ;; esac; }
extra_flags_of() { case $1 in fuzz_loader) echo "-dict=$here/tokenizer_json.dict" ;; fuzz_jinja) echo "-dict=$here/jinja.dict" ;; *) echo "" ;; esac; }

# Sanitizer settings: abort on the first report, symbolized stacks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:symbolize=1}

mkdir -p "$artifacts"
status=0
summary=()
for t in $targets; do
  bin=$build/fuzz/$t
  if [ ! -x "$bin" ]; then
    echo "fuzz/run.sh: $bin is missing (configure with -DTOKALIGN_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++)" >&2
    exit 2
  fi
  work=$build/fuzz-corpus/$t
  seeds=$here/corpus/${t#fuzz_}
  mkdir -p "$work"
  log=$build/fuzz-$t.log
  before=$(ls "$artifacts" | grep -c "^$t-" || true)
  echo "== $t: ${seconds}s, max_len $(max_len_of "$t"), $jobs job(s); log $log"
  # shellcheck disable=SC2046
  "$bin" "$work" "$seeds" \
    -max_total_time="$seconds" -max_len="$(max_len_of "$t")" \
    -timeout=30 -rss_limit_mb=8192 -malloc_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
    $( [ "$jobs" -gt 1 ] && echo "-fork=$jobs -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1" ) \
    $(extra_flags_of "$t") >"$log" 2>&1
  rc=$?
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
  # Fork mode prints per-child stats; also take the last "#N" progress line.
  last=$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  [ "${execs:-0}" -gt 0 ] || execs=${last:-0}
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  corpus=$(ls "$work" | wc -l)
  found=$(ls "$artifacts" | grep "^$t-" || true)
  newfound=$(( $(printf '%s\n' "$found" | grep -c . || true) - before ))
  if [ "$rc" -ne 0 ] || [ "$newfound" -gt 0 ]; then
    status=1
    echo "   FAILED (exit $rc): see $log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz_[a-z]+: BUG|[^ ]*runtime error)' "$log" | head -5 | sed 's/^/   /'
    ls -t "$artifacts" | grep "^$t-" | head -"$(( newfound > 0 ? newfound : 1 ))" | sed "s|^|   reproducer: $artifacts/|"
    summary+=("$t: FAILED (exit $rc), $execs execs, cov ${cov:-?}, corpus $corpus")
  else
    summary+=("$t: ok, $execs execs, cov ${cov:-?}, corpus $corpus")
  fi
done

echo "== fuzz summary (${seconds}s per target)"
printf '   %s\n' "${summary[@]}"
[ "$status" -eq 0 ] && echo "   no crashes" || echo "   replay a reproducer with: $build/fuzz/TARGET FILE"
exit "$status"
