#!/bin/bash
# On the device machine: what the same compile work costs in CPU when the machine is busy,
# run apart and run together. Over the same N samples (default 100,000), ROUNDS rounds
# (default 3), each run with TOKALIGN_PIPELINE_STATS:
#   alone:    tokalign -j 1, the only process (its compile thread's CPU: reading, compiling,
#             handing on; its writer and hash threads on other CPUs);
#   together: CORES such processes at once, process k on CPU k alone (each compile thread's
#             CPU; each process's helper threads on its own CPU): the machine's contention;
#   threads:  tokalign -j 12 and -j CORES (reader, workers and sink CPU together: the same work
#             as the compile thread above, split across threads).
# together / alone is what a busy machine costs any program; threads / together what the
# pipeline's threads cost beyond that (shared tables, records and samples moving between
# cores, waking and waiting). Results: $OUT/parallel_cost.txt and a summary.
# Expects what threads_job.sh expects (bench/device/prepare.sh).
set -u
source "$(dirname "$0")/env.sh"
N=${N:-100000}
CORES=$(nproc)
R=$OUT/parallel_cost.txt
python3 bench/gen_llava_mix.py --n $N --seed 1 --text .device/bench/pride.txt > /dev/shm/mix.json
tk() {  # LABEL OUT THREADS [CPU]
  local pin=()
  [ -n "${4:-}" ] && pin=(taskset -c $4)
  rm -rf $2
  TOKALIGN_PIPELINE_STATS=1 "${pin[@]}" $TOKALIGN compile --data /dev/shm/mix.json -t $TOK --template llava_v1 \
    --out $2 -j $3 2>&1 > /dev/null | grep "pipeline on" | sed "s/^/$1: /"
}
tk warm /dev/shm/shard 1 > /dev/null  # the tokenizer cache (not kept)
: > $R
for r in $(seq ${ROUNDS:-3}); do
  tk alone /dev/shm/shard 1 >> $R
  for ((k = 0; k < CORES; k++)); do tk together /dev/shm/together$k 1 $k > /tmp/together$k.txt & done
  wait
  cat /tmp/together*.txt >> $R
  rm -rf /dev/shm/together*
  tk "j12" /dev/shm/shard 12 >> $R
  tk "j$CORES" /dev/shm/shard $CORES >> $R
done
rm -rf /dev/shm/shard
python3 - $R $N <<'PY' | tee $OUT/parallel_cost_summary.txt
import re, statistics as st, sys
rows = {}
for line in open(sys.argv[1]):
    label, rest = line.split(": ", 1)
    m = re.search(r"its CPU ([\d.]+) s", rest)
    if m:
        cpu = float(m.group(1))
    else:
        cpu = sum(float(re.search(p, rest).group(1)) for p in (r"reader ([\d.]+) s CPU", r"workers ([\d.]+) s CPU", r"sink ([\d.]+) s CPU"))
    rows.setdefault(label, []).append(cpu)
n = int(sys.argv[2])
med = {k: st.median(v) for k, v in rows.items()}
alone, together = med.get("alone"), med.get("together")
for k, v in med.items():
    print(f"{k}: compile CPU median {v:.3f} s ({len(rows[k])} runs), {v / n * 1e6:.1f} us a sample")
if alone and together:
    print(f"busy machine: together / alone = {together / alone:.3f}")
    for k in med:
        if k.startswith("j"):
            print(f"{k}: / alone = {med[k] / alone:.3f}, / together = {med[k] / together:.3f}")
PY
