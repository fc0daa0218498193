#!/bin/bash
# On the device machine: tokalign's threads against the same work in independent processes,
# the ceiling any in-process pipeline is held to on that host. 100,000 samples (JSON Lines,
# shards to /dev/shm): one process with -j 1; -j N (N = 12 and all cores); and N single-thread
# processes at once, each on its own 1/N of the file (split by lines). Interleaved, ROUNDS
# rounds (default 3). Each row has wall time and CPU time (all the children), so the workers'
# slowdown per sample under load shows beside the scaling. Expects what scale_job.sh expects.
set -u
source "$(dirname "$0")/env.sh"
R=$OUT/procs.jsonl
CORES=$(nproc)
python3 bench/gen_llava_mix.py --n 100000 --seed 2 --format jsonl --text .device/bench/pride.txt > /tmp/m100k.jsonl
for n in 12 $CORES; do
  rm -rf /tmp/split$n && mkdir -p /tmp/split$n
  split -n l/$n -d -a 3 /tmp/m100k.jsonl /tmp/split$n/part
done
run() {  # LABEL THREADS PROCESSES: PROCESSES > 1 runs that many -j 1 processes on /tmp/split$PROCESSES
  python3 - "$@" >> $R <<'PY'
import glob, json, os, resource, subprocess, sys, time
label, threads, procs = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = os.environ["TOKALIGN"].split()
def cmd(data, out, j):
    return base + ["compile", "--data", data, "-t", os.environ["TOK"], "--template", "llava_v1", "--out", out,
                   "--overwrite", "-j", str(j)]
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t = time.perf_counter()
if procs > 1:
    parts = sorted(glob.glob(f"/tmp/split{procs}/part*"))
    ps = [subprocess.Popen(cmd(p, f"/dev/shm/procs_{i}", 1), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
          for i, p in enumerate(parts)]
    rc = max(p.wait() for p in ps)
else:
    rc = subprocess.run(cmd("/tmp/m100k.jsonl", "/dev/shm/procs_one", threads), stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode
s = time.perf_counter() - t
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(json.dumps({"what": label, "threads": int(threads), "processes": procs, "samples": 100000, "seconds": round(s, 3),
                  "cpu_s": round(cpu, 3), "rc": rc}), flush=True)
PY
  rm -rf /dev/shm/procs_*
}
run warm-up $CORES 1
for r in $(seq ${ROUNDS:-3}); do
  run "tokalign -j 1" 1 1
  run "tokalign -j 12" 12 1
  run "12 processes, -j 1 each" 1 12
  run "tokalign -j $CORES" $CORES 1
  run "$CORES processes, -j 1 each" 1 $CORES
done
python3 - $R <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"warm-up"' not in l]
by = {}
for r in rows: by.setdefault(r["what"], []).append(r)
one = statistics.median(r["seconds"] for r in by["tokalign -j 1"])
for what, rs in by.items():
    s = statistics.median(r["seconds"] for r in rs)
    c = statistics.median(r["cpu_s"] for r in rs)
    print(f"{what:28s} median {s:.3f} s  cpu {c:.2f} s  speed-up {one / s:.2f}x  ({len(rs)} runs)")
PY
