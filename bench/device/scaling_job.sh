#!/bin/bash
# On the device machine: scaling from one CPU to all of them, tokalign against the HF
# tokenizers reference of bench/compile_scale.sh (each rendered prompt encoded once, through
# transformers' fast tokenizer; its loop only, the data and tokenizer already loaded), on the
# same N samples (default 100,000), ROUNDS interleaved rounds (default 3):
#   tokalign compile -j 1 with the whole process on CPU 0 (taskset: its writer and hash
#   threads too), -j 12 and -j CORES (whole process, output to /dev/shm);
#   the reference on one thread on CPU 0, and on CORES threads.
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
tk $CORES  # fills the tokenizer cache (not kept)
: > $R
for r in $(seq ${ROUNDS:-3}); do
  tk 1 0; tk 12; tk $CORES
  hf 1 0; hf $CORES
done
rm -rf /dev/shm/shard
cat $R
python3 - $R <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = {}
for r in rows:
    med.setdefault(r["what"], []).append(r["seconds"])
med = {k: statistics.median(v) for k, v in med.items()}
for k, v in med.items():
    print(f"{k}: median {v:.3f} s")
for name, base in (("tokalign", "tokalign -j 1 on one CPU"), ("HF reference", "HF reference, 1 thread on one CPU")):
    if base not in med:
        continue
    one = med[base]
    others = [(k, v) for k, v in med.items() if k.startswith(name) and k != base]
    print(f"{name} from one CPU ({one:.3f} s): " + ", ".join(f"{k} {one / v:.2f}x" for k, v in others))
PY
