#!/bin/bash
# Where a one-CPU compile's time goes at each input size (device machine): tokalign -j 1 on
# one CPU (taskset) over the first n samples of the benchmark mixture, for n in SIZES, RUNS
# rounds interleaved; each run's wall time, user and system CPU, and its own phase times
# (TOKALIGN_PIPELINE_STATS: setup, records, finish). Per-sample cost falling with n is the
# part that does not scale with the data (start, word tables' first sight of words).
# usage (device): SIZES="10 1000 30000 100000" RUNS=5 PIN=3 bash bench/device/sizes_job.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -n "${TOKALIGN:-}" ] || source "$(dirname "$0")/env.sh"  # (TOKALIGN and TOK set: a local run)
TEXT=${TEXT:-.device/bench/pride.txt}
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
R=$OUT/sizes.jsonl
: > "$R"
SIZES=${SIZES:-10 1000 30000 100000}
max=0
for n in $SIZES; do [ "$n" -gt "$max" ] && max=$n; done
python3 bench/gen_llava_mix.py --n "$max" --seed 1 --text "$TEXT" > /tmp/sizes_mix.json
for n in $SIZES; do  # (gen_llava_mix.py's first n samples are the same for any --n)
  python3 bench/gen_llava_mix.py --n "$n" --seed 1 --text "$TEXT" > /tmp/sizes_mix$n.json
done
run() {  # N
  rm -rf /tmp/sizes_shard
  N=$1 PIN=${PIN:-3} python3 - >> "$R" <<'PY'
import json, os, resource, subprocess, time
n, pin = int(os.environ["N"]), os.environ["PIN"]
cmd = ["taskset", "-c", pin] + os.environ["TOKALIGN"].split() + [
    "compile", "--data", f"/tmp/sizes_mix{n}.json", "-t", os.environ["TOK"], "--template", "llava_v1",
    "--out", "/tmp/sizes_shard", "--overwrite", "-j", "1"]
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t = time.perf_counter()
p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                   env=dict(os.environ, TOKALIGN_PIPELINE_STATS="1"))
s = time.perf_counter() - t
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
stats = [l for l in p.stderr.splitlines() if "setup" in l or "pipeline on" in l or "other threads" in l]
print(json.dumps({"samples": n, "seconds": round(s, 4), "user_s": round(r1.ru_utime - r0.ru_utime, 4),
                  "sys_s": round(r1.ru_stime - r0.ru_stime, 4), "us_per_sample": round(s / n * 1e6, 2),
                  "rc": p.returncode, "stats": stats}))
PY
}
run 10  # warms the tokenizer cache
for r in $(seq "${RUNS:-5}"); do
  for n in $SIZES; do run "$n"; done
done
python3 - "$R" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])][1:]
for n in sorted({r["samples"] for r in rows}):
    rs = [r for r in rows if r["samples"] == n]
    med = lambda k: statistics.median(r[k] for r in rs)
    print(f"{n:>8} samples: {med('seconds'):.4f} s wall, user {med('user_s'):.4f}, sys {med('sys_s'):.4f}, "
          f"{med('us_per_sample'):.2f} us a sample (median of {len(rs)})")
PY
