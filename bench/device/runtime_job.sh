#!/bin/bash
# On the device machine: the same binary under variants of its runtime, beside the threads of
# the pipeline. N samples (default 665,000) in /dev/shm, compiled at each -j of JS (default
# "12 1p"; "1p": -j 1 with the whole process on one CPU) in each variant of VARIANTS,
# interleaved, ROUNDS rounds (default 5):
#   glibc     glibc's malloc as linked, every library at its widest vectors (the default)
#   arena1    glibc's malloc with one arena for all threads (glibc.malloc.arena_max=1)
#   jemalloc, mimalloc  Debian's libjemalloc2 and libmimalloc2.0, preloaded through the carried
#             loader (prepare.sh copies them into .device/guard/lib when this machine has them)
#   avx2      no 512-bit vectors in the libraries: simdjson's haswell kernels
#             (SIMDJSON_FORCE_IMPLEMENTATION) and glibc's AVX2 string functions (its AVX-512
#             ones masked off by glibc.cpu.hwcaps)
# Each run's stats lines (TOKALIGN_PIPELINE_STATS: the workers' CPU) and wall time go to
# $OUT/runtime.txt, medians to the end of it.
# Why: glibc gives each thread an arena that grows a page at a time, one mprotect call each
# (thousands per worker), and mprotect takes the process's mmap lock, which every thread's
# page faults wait for, where separate processes share none; and 512-bit instructions may
# lower a busy core's clock.
set -u
source "$(dirname "$0")/env.sh"
L="$G/lib/ld-linux-x86-64.so.2 --library-path $G/lib"
python3 bench/gen_llava_mix.py --n ${N:-665000} --seed 1 --text .device/bench/pride.txt > /dev/shm/mix.json
R=$OUT/runtime.txt
: > $R
one() {  # VARIANT THREADS (N, or Np: N on one CPU)
  rm -rf /dev/shm/shard
  local pin=() pre=() env=()
  [ "${2%p}" != "$2" ] && pin=(taskset -c 0)
  case $1 in
    jemalloc) pre=(--preload $G/lib/libjemalloc.so.2) ;;
    mimalloc) pre=(--preload $G/lib/libmimalloc.so.2) ;;
    arena1) env=(GLIBC_TUNABLES=glibc.malloc.arena_max=1) ;;
    avx2) env=(SIMDJSON_FORCE_IMPLEMENTATION=haswell GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD) ;;
  esac
  local s=$EPOCHREALTIME
  env "${env[@]}" TOKALIGN_PIPELINE_STATS=1 "${pin[@]}" $L "${pre[@]}" $G/tokalign compile --data /dev/shm/mix.json -t $TOK \
    --template llava_v1 --out /dev/shm/shard -j ${2%p} 2> /tmp/runtime_err.txt > /dev/null
  echo "== $1 j=$2 rc $? wall $(awk -v a=$s -v b=$EPOCHREALTIME 'BEGIN{printf "%.3f", b-a}')" >> $R
  grep -E "pipeline on|setup|other threads" /tmp/runtime_err.txt | sed 's/^/  /' >> $R
}
one glibc 12  # the tokenizer cache (not kept)
: > $R
for r in $(seq ${ROUNDS:-5}); do
  for j in ${JS:-12 1p}; do
    for a in ${VARIANTS:-glibc arena1 jemalloc mimalloc avx2}; do
      case $a in jemalloc|mimalloc) [ -f $G/lib/lib$a.so.2 ] || continue ;; esac
      one $a $j
    done
  done
done
python3 - $R <<'PY' | tee -a $R
import re, statistics, sys
rows, cur = {}, None
for line in open(sys.argv[1]):
    m = re.match(r"== (\S+) j=(\S+) rc (\d+) wall (\S+)", line)
    if m:
        cur = (m.group(1), m.group(2))
        rows.setdefault(cur, {"wall": [], "workers": [], "rc": set()})
        rows[cur]["wall"].append(float(m.group(4)))
        rows[cur]["rc"].add(int(m.group(3)))
        continue
    m = re.search(r"workers ([\d.]+) s CPU", line) or re.search(r"parsing and compiling ([\d.]+) s", line)
    if m and cur:
        rows[cur]["workers"].append(float(m.group(1)))
for (a, j), v in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    print(f"{a:9} -j {j:4}: wall median {statistics.median(v['wall']):.3f} s (min {min(v['wall']):.3f}, {len(v['wall'])} runs), "
          f"workers' CPU median {statistics.median(v['workers']):.3f} s, exit {sorted(v['rc'])}")
PY
