#!/bin/bash
# On the device machine (16 cores): peak RSS does not grow with the input (665k samples,
# 1.1 GB, versus 2M samples, 3.2 GB), and how compile scales with threads (1..16), with the
# shard written to the disk (/tmp) and to memory (/dev/shm: the same run without the disk's
# write speed, which bounds the shard's final sync on many threads).
# Expects .device/guard/{tokalign,lib/}, .device/tok/vicuna, .device/bench/pride.txt
# (bash bench/device/prepare.sh fills .device).
set -u
source "$(dirname "$0")/env.sh"
R=$OUT/scale.jsonl
lscpu > $OUT/lscpu.txt  # cores against hardware threads: what "all cores" means there
python3 bench/gen_llava_mix.py --n 665000 --seed 2 --format jsonl --text .device/bench/pride.txt > /tmp/m665k.jsonl
cat /tmp/m665k.jsonl /tmp/m665k.jsonl /tmp/m665k.jsonl > /tmp/m2m.jsonl
head -100000 /tmp/m665k.jsonl > /tmp/m100k.jsonl
ls -la /tmp/m*.jsonl > $OUT/scale_data.txt
run() {  # DATA THREADS SAMPLES [extra args]: whole-process time and peak RSS
  python3 - "$@" >> $R <<'PY'
import json, resource, subprocess, sys, time, os
data, threads, n, extra = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
out = os.environ.get("SHARD_OUT", "/tmp/shard")
cmd = os.environ["TOKALIGN"].split() + ["compile", "--data", data, "-t", os.environ["TOK"], "--template", "llava_v1",
                                        "--out", out, "--overwrite", "-j", str(threads)] + extra
t = time.perf_counter()
# With the pipeline's stats: where each stage's and each kind of thread's CPU went (the
# 2M runs, one shard against parts: whether the shard file writers are what limits them).
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                     env=dict(os.environ, TOKALIGN_PIPELINE_STATS="1"))
_, err = p.communicate()
s = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)  # this python process has one child: the compile
print(json.dumps({"data": data, "out": out, "threads": threads, "samples": n, "extra": extra, "seconds": round(s, 3),
                  "per_s": round(n / s, 1), "rss_kb": ru.ru_maxrss, "rc": p.returncode,
                  "user_s": round(ru.ru_utime, 3), "sys_s": round(ru.ru_stime, 3),
                  "summary": err.strip().splitlines()[-1] if err.strip() else "",
                  "stats": [l for l in err.splitlines() if "pipeline on" in l or "other threads" in l or "setup " in l]}),
      flush=True)
PY
}
run /tmp/m100k.jsonl 16 100000  # warm the tokenizer cache
for j in 1 2 4 8 12 16; do run /tmp/m100k.jsonl $j 100000; done
for j in 1 4 8 12 16; do SHARD_OUT=/dev/shm/shard run /tmp/m100k.jsonl $j 100000; done
rm -rf /dev/shm/shard
# RSS of the whole input, and of 3x the input
for f in m665k:665000 m2m:1995000; do
  ( run /tmp/${f%%:*}.jsonl 16 ${f##*:} )
  ( run /tmp/${f%%:*}.jsonl 16 ${f##*:} --part-size 100000 )
done
cat $R
