#!/bin/bash
# On the device machine: N samples (default 30,000, the per-core set) on every core, where
# each worker sees 1/16 of the samples and starts with its word table empty: this build
# against the previous one (.device/guard/tokalign_prev, from prepare.sh PREV), interleaved,
# ROUNDS rounds (default 6) of each thread count in JS (default "16 12 1"), output in
# /dev/shm, with each run's stats lines (TOKALIGN_PIPELINE_STATS: the workers' CPU). A count
# written "1p" is -j 1 with the whole process on one CPU (taskset -c 0: its writer and hash
# threads too), the base for scaling from one core to all of them; "4@6" is -j 4 on the first
# six CPUs (taskset -c 0-5), a smaller machine.
# Results: $OUT/threads.txt and a summary.
set -u
source "$(dirname "$0")/env.sh"
G=.device/guard
L="$G/lib/ld-linux-x86-64.so.2 --library-path $G/lib"
# FORMAT=jsonl: the same samples as JSON Lines (found by newlines: the reader's lightest input).
FORMAT=${FORMAT:-json}
python3 bench/gen_llava_mix.py --n ${N:-30000} --seed 1 --format $FORMAT --text .device/bench/pride.txt > /dev/shm/mix.json
R=$OUT/threads.txt
builds=(tokalign)
[ -x $G/tokalign_prev ] && builds+=(tokalign_prev)
# ROLES="split shared": each build also with each way of sharing the work
# (TOKALIGN_PIPELINE_ROLES), as rows named BUILD:ROLES.
if [ -n "${ROLES:-}" ]; then
  with=()
  for b in "${builds[@]}"; do for r in $ROLES; do with+=("$b:$r"); done; done
  builds=("${with[@]}")
fi
# INDEX="0 2": each row also with that many helpers finding the records ahead of the reader
# (TOKALIGN_INDEX_THREADS), as rows named BUILD[:ROLES]+ixN.
if [ -n "${INDEX:-}" ]; then
  with=()
  for b in "${builds[@]}"; do for x in $INDEX; do with+=("$b+ix$x"); done; done
  builds=("${with[@]}")
fi
one() {  # BUILD[:ROLES][+ixN] THREADS (N; Np: N on one CPU; N@C: N on the first C CPUs)
  rm -rf /dev/shm/shard
  local pin=() j=${2%@*}
  [ "${2%p}" != "$2" ] && pin=(taskset -c 0)
  [ "$j" != "$2" ] && pin=(taskset -c 0-$((${2#*@} - 1)))
  local row=${1%+ix*} index=
  [ "$row" != "$1" ] && index=${1##*+ix}
  local bin=${row%%:*} roles=
  [ "$bin" != "$row" ] && roles=${row#*:}
  local s=$EPOCHREALTIME
  local TIMEFORMAT='cpu %U %S'  # (the process's CPU, user and system, with every thread's)
  { time TOKALIGN_INDEX_THREADS=$index TOKALIGN_PIPELINE_ROLES=$roles TOKALIGN_PIPELINE_STATS=1 "${pin[@]}" $L $G/$bin compile --data /dev/shm/mix.json -t $TOK --template llava_v1 --out /dev/shm/shard \
    -j ${j%p} 2> /tmp/threads_err.txt > /dev/null ; } 2> /tmp/threads_time.txt
  echo "== $1 j=$2 wall $(awk -v a=$s -v b=$EPOCHREALTIME 'BEGIN{printf "%.3f", b-a}') cpu $(awk '/^cpu /{printf "%.3f", $2 + $3}' /tmp/threads_time.txt)" >> $R
  grep -E "pipeline on|setup|other threads" /tmp/threads_err.txt | sed 's/^/  /' >> $R
}
one tokalign 16  # the tokenizer cache (not kept)
: > $R
for r in $(seq ${ROUNDS:-6}); do
  for j in ${JS:-16 12 1}; do
    for b in "${builds[@]}"; do one $b $j; done
  done
done
rm -rf /dev/shm/shard
python3 - $R <<'PY'
import re, statistics, sys
rows, cur = {}, None
for line in open(sys.argv[1]):
    m = re.match(r"== (\S+) j=(\S+) wall (\S+)(?: cpu (\S+))?", line)
    if m:
        cur = (m.group(1), m.group(2))
        row = rows.setdefault(cur, {"wall": [], "workers": [], "cpu": []})
        row["wall"].append(float(m.group(3)))
        if m.group(4):
            row["cpu"].append(float(m.group(4)))
        continue
    m = (re.search(r"workers ([\d.]+) s CPU", line) or re.search(r"parsing and compiling ([\d.]+) s", line)
         or re.search(r"compiling ([\d.]+) s CPU", line))
    if m and cur:
        rows[cur]["workers"].append(float(m.group(1)))
num = lambda j: int(j.split("@")[0].rstrip("p"))
for (b, j), v in sorted(rows.items(), key=lambda kv: (-num(kv[0][1]), kv[0][1], kv[0][0])):
    what = f"-j {num(j):2}" + (", one CPU" if j.endswith("p") else f" on {j.split('@')[1]} CPUs" if "@" in j else "")
    print(f"{b:14} {what}: wall median {statistics.median(v['wall']):.3f} s ({len(v['wall'])} runs), "
          f"workers' CPU median {statistics.median(v['workers']):.3f} s"
          + (f", the process's CPU median {statistics.median(v['cpu']):.3f} s" if v["cpu"] else ""))
# Scaling from one core: the one-CPU -j 1 run's median over each thread count's.
for b in sorted({b for b, _ in rows}):
    base = rows.get((b, "1p"))
    if not base:
        continue
    one = statistics.median(base["wall"])
    print(f"{b}: from one CPU (-j 1 on one CPU, {one:.3f} s): " + ", ".join(
        f"-j {j} {one / statistics.median(v['wall']):.2f}x" for (bb, j), v in sorted(rows.items(), key=lambda kv: num(kv[0][1]))
        if bb == b and not j.endswith("p") and "@" not in j))
PY
