#!/bin/bash
# On the device machine: scaling from one CPU to all of them, tokalign against the HF
# tokenizers reference of bench/compile_scale.sh (each rendered prompt encoded once, through
# transformers' fast tokenizer; its loop only, the data and tokenizer already loaded), on the
# same N samples (default 100,000), ROUNDS interleaved rounds (default 3):
#   tokalign compile -j 1 with the whole process on CPU 0 (taskset: its writer and hash
#   threads too), -j 12 and -j CORES (whole process, output to /dev/shm);
#   the reference on one thread on CPU 0, and on CORES threads (left out with HF=0);
#   the machine's ceiling for this work: CORES copies of the one-CPU run at once, copy k on
#   CPU k (nothing shared but the machine: its clock, caches, memory, the host's other
#   guests), whose CORES times the work in their wall time is the most any split of it
#   could scale to here.
# Results: $OUT/scaling.jsonl and a summary (each side's medians and its scaling from one CPU).
# Expects what percore_job.sh expects (bench/device/prepare.sh).
set -u
source "$(dirname "$0")/env.sh"
N=${N:-100000}
CORES=$(nproc)
R=$OUT/scaling.jsonl
: > $R
python3 bench/gen_llava_mix.py --n $N --seed 1 --text .device/bench/pride.txt > /dev/shm/mix.json
pin() {  # CPU: the taskset prefix for one CPU, or nothing
  [ -n "$1" ] && echo "taskset -c $1"
}
where() { [ -n "$1" ] && echo " on one CPU"; }
tk() {  # THREADS [CPU]
  rm -rf /dev/shm/shard
  local s=$EPOCHREALTIME
  $(pin "${2:-}") $TOKALIGN compile --data /dev/shm/mix.json -t $TOK --template llava_v1 --out /dev/shm/shard \
    -j $1 > /dev/null 2>> $OUT/scaling.err
  echo "{\"what\": \"tokalign -j $1$(where "${2:-}")\", \"seconds\": $(awk -v a=$s -v b=$EPOCHREALTIME 'BEGIN{printf "%.3f", b - a}')}" >> $R
}
hf() {  # THREADS [CPU]
  $(pin "${2:-}") python3 bench/device/llava_preprocess_bench.py --tokenizer $TOK --data /dev/shm/mix.json --n $N \
    --hf-threads $1 2>> $OUT/scaling.err |
    python3 -c "import json, sys; r = json.loads(sys.stdin.read()); t = r['procs']; print(json.dumps({'what': f'HF reference, {t} thread' + 's' * (t > 1) + '$(where "${2:-}")', 'seconds': r['seconds']}))" >> $R
}
ceiling() {  # CORES processes at once, each the one-CPU run: -j 1 over all the samples on CPU k alone
  local s=$EPOCHREALTIME
  for ((k = 0; k < CORES; k++)); do
    rm -rf /dev/shm/alone$k
    taskset -c $k $TOKALIGN compile --data /dev/shm/mix.json -t $TOK --template llava_v1 \
      --out /dev/shm/alone$k -j 1 > /dev/null 2>> $OUT/scaling.err &
  done
  wait
  echo "{\"what\": \"$CORES one-CPU runs at once\", \"seconds\": $(awk -v a=$s -v b=$EPOCHREALTIME 'BEGIN{printf "%.3f", b - a}')}" >> $R
}
tk $CORES  # fills the tokenizer cache (not kept)
: > $R
for r in $(seq ${ROUNDS:-3}); do
  tk 1 0; tk 12; tk $CORES; ceiling
  if [ "${HF:-1}" != 0 ]; then hf 1 0; hf $CORES; fi
done
rm -rf /dev/shm/shard /dev/shm/alone*
cat $R
python3 - $R $CORES <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = {}
for r in rows:
    med.setdefault(r["what"], []).append(r["seconds"])
med = {k: statistics.median(v) for k, v in med.items()}
for k, v in med.items():
    print(f"{k}: median {v:.3f} s")
TK_ONE = "tokalign -j 1 on one CPU"
for name, base in (("tokalign", TK_ONE), ("HF reference", "HF reference, 1 thread on one CPU")):
    if base not in med:
        continue
    one = med[base]
    others = [(k, v) for k, v in med.items() if k.startswith(name) and k != base]
    print(f"{name} from one CPU ({one:.3f} s): " + ", ".join(f"{k} {one / v:.2f}x" for k, v in others))
# What the machine gives this work (copies of the one-CPU run, one per CPU), and each
# all-core run's share of it.
cores = int(sys.argv[2])
ceil = med.get(f"{cores} one-CPU runs at once")
if ceil and TK_ONE in med:
    one = med[TK_ONE]
    top = cores * one / ceil
    print(f"ceiling: {cores} one-CPU runs at once do {top:.2f}x the work of one in its time; " + ", ".join(
        f"{k} ({one / v:.2f}x) reaches {one / v / top:.0%} of it" for k, v in med.items() if k.startswith("tokalign") and k != TK_ONE))
PY
