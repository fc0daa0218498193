#!/bin/bash
# On the device machine: tokalign compile -j 1 with its whole process on one CPU (taskset -c
# PIN, default 3: its reader, writer and hash threads too) over the first n samples of the
# mixture for each n of SIZES (default "30000 665000"), ROUNDS interleaved rounds (default 5),
# output on the disk (/tmp/shard) as percore_job.sh writes it. The time a sample at each size in
# one call: percore_job.sh measured one core each against LLaVA at 30,000 samples and at
# 665,000 in different calls, and the host's speed moves between calls.
# Each row has the run's user and system CPU and its phase times (TOKALIGN_PIPELINE_STATS:
# setup, records, finish): the part of a sample's cost that does not scale with n shows as the
# rate rising with it. Results: $OUT/size.jsonl and a summary.
set -u
source "$(dirname "$0")/env.sh"
SIZES=${SIZES:-30000 665000}
PIN=${PIN:-3}
R=$OUT/size.jsonl
for n in $SIZES; do  # (gen_llava_mix.py's first n samples are the same for any --n)
  python3 bench/gen_llava_mix.py --n $n --seed 1 --text .device/bench/pride.txt > /tmp/mix$n.json
done
run() {  # SAMPLES: one row, with the run's user and system CPU and its phase times
  rm -rf /tmp/shard
  N=$1 PIN=$PIN python3 - <<'PY'
import json, os, resource, subprocess, time
n = int(os.environ["N"])
cmd = ["taskset", "-c", os.environ["PIN"]] + os.environ["TOKALIGN"].split() + [
    "compile", "--data", f"/tmp/mix{n}.json", "-t", os.environ["TOK"], "--template", "llava_v1", "--out", "/tmp/shard", "-j", "1"]
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t = time.perf_counter()
p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                   env=dict(os.environ, TOKALIGN_PIPELINE_STATS="1"))
s = time.perf_counter() - t
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
# TOKALIGN_PIPELINE_STATS: setup, records and finish; the pipeline's stages; the other threads.
stats = [l for l in p.stderr.splitlines() if "setup" in l or "pipeline on" in l or "other threads" in l]
print(json.dumps({"samples": n, "seconds": round(s, 4), "user_s": round(r1.ru_utime - r0.ru_utime, 4),
                  "sys_s": round(r1.ru_stime - r0.ru_stime, 4), "rc": p.returncode, "stats": stats}))
PY
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
