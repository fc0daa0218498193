#!/bin/bash
# On the device machine: tokalign compile -j 1 with its whole process on one CPU (taskset -c
# PIN, default 3: its reader, writer and hash threads too) over the first n samples of the
# mixture for each n of SIZES (default "30000 665000"), ROUNDS interleaved rounds (default 5),
# output on the disk (/tmp/shard) as percore_job.sh writes it. The time a sample at each size in
# one call: percore_job.sh measured one core each against LLaVA at 30,000 samples and at
# 665,000 in different calls, and the host's speed moves between calls.
# Results: $OUT/size.jsonl and a summary.
set -u
source "$(dirname "$0")/env.sh"
SIZES=${SIZES:-30000 665000}
PIN=${PIN:-3}
R=$OUT/size.jsonl
for n in $SIZES; do  # (gen_llava_mix.py's first n samples are the same for any --n)
  python3 bench/gen_llava_mix.py --n $n --seed 1 --text .device/bench/pride.txt > /tmp/mix$n.json
done
run() {  # SAMPLES
  rm -rf /tmp/shard
  local s=$EPOCHREALTIME
  taskset -c $PIN $TOKALIGN compile --data /tmp/mix$1.json -t $TOK --template llava_v1 --out /tmp/shard -j 1 2> /dev/null > /dev/null
  local rc=$? e=$EPOCHREALTIME
  echo "{\"samples\": $1, \"seconds\": $(awk -v a=$s -v b=$e 'BEGIN{printf "%.3f", b-a}'), \"rc\": $rc}"
}
run ${SIZES%% *} > /dev/null  # the tokenizer cache (not kept)
: > $R
for r in $(seq ${ROUNDS:-5}); do
  for n in $SIZES; do run $n >> $R; done
done
rm -rf /tmp/shard
python3 - $R <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
failed = [r for r in rows if r["rc"] != 0]
if failed:
    print(f"warning: {len(failed)} runs failed (exit status {failed[0]['rc']}); their times are left out")
rows = [r for r in rows if r["rc"] == 0]
per = {}
for r in rows:
    per.setdefault(r["samples"], []).append(r["seconds"])
base = None
for n, t in sorted(per.items()):
    m = statistics.median(t)
    us = 1e6 * m / n
    base = base or us
    print(f"{n} samples on one CPU: median {m:.3f} s ({', '.join(f'{x:.3f}' for x in t)}): "
          f"{us:.1f} us a sample ({base / us:.2f}x the smallest size's rate)")
PY
