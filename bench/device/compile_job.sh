#!/bin/bash
# On the device machine (16 cores): tokalign compile versus LLaVA's own preprocess_v1 and the
# HF tokenizers reference, on the same generated LLaVA-mix data, one core and all cores.
# Expects .device/guard/{tokalign,lib/} (binary + Debian libraries), .device/tok/vicuna
# (LLaVA-1.5's tokenizer), .device/llava (LLaVA's sources), .device/bench/pride.txt.
set -u
source "$(dirname "$0")/env.sh"
N=${N:-30000}
R=$OUT/results.jsonl
nproc > $OUT/nproc.txt
python3 bench/gen_llava_mix.py --n $N --seed 1 --text .device/bench/pride.txt > /tmp/mix.json
python3 bench/gen_llava_mix.py --n 665000 --seed 2 --text .device/bench/pride.txt > /tmp/mix665k.json
ls -la /tmp/mix.json /tmp/mix665k.json > $OUT/data.txt
tk() {  # NAME DATA THREADS SAMPLES: whole-process time and peak RSS of one compile
  python3 - "$@" >> $R <<'PY'
import json, resource, subprocess, sys, time, os
name, data, threads, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
cmd = os.environ["TOKALIGN"].split() + ["compile", "--data", data, "-t", os.environ["TOK"], "--template", "llava_v1",
                                        "--out", "/tmp/shard", "--overwrite", "-j", str(threads)]
t = time.perf_counter()
p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
s = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
rss = ru.ru_maxrss
print(json.dumps({"what": f"tokalign compile -j {threads} (whole process)", "samples": n, "procs": threads,
                  "seconds": round(s, 3), "per_s": round(n / s, 1), "rss_kb": rss, "rc": p.returncode,
                  "user_s": round(ru.ru_utime, 3), "sys_s": round(ru.ru_stime, 3),
                  "summary": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""}))
PY
}
$TOKALIGN compile --data /tmp/mix.json -t $TOK --template llava_v1 --out /tmp/shard --overwrite -j 16 2>/dev/null  # warm the tokenizer cache
for run in 1 2 3; do tk j1 /tmp/mix.json 1 $N; tk j16 /tmp/mix.json 16 $N; done
tk j16 /tmp/mix665k.json 16 665000
B="python3 bench/device/llava_preprocess_bench.py --llava .device/llava --tokenizer $TOK --data /tmp/mix.json --n $N"
$B --llava-tokenizer slow --procs 1 >> $R 2>> $OUT/llava.err
$B --llava-tokenizer slow --procs 16 >> $R 2>> $OUT/llava.err
$B --llava-tokenizer fast --procs 1 >> $R 2>> $OUT/llava.err
$B --llava-tokenizer fast --procs 16 >> $R 2>> $OUT/llava.err
$B --hf-threads 1 >> $R 2>> $OUT/llava.err
$B --hf-threads 16 >> $R 2>> $OUT/llava.err
cat $R
tail -3 $OUT/llava.err
