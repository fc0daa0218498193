#!/bin/bash
# On the device machine: the per-core comparison with the runs interleaved, so that a noisy
# host weighs on every row alike: tokalign compile -j 1 (whole process) and the HF tokenizers
# reference on one thread, three times each in turn, then LLaVA's own preprocess_v1 (slow
# tokenizer, as its train.py loads it) on one core between two more tokalign runs.
# Expects what compile_job.sh expects.
set -u
source "$(dirname "$0")/env.sh"
N=${N:-30000}
R=$OUT/percore.jsonl
python3 bench/gen_llava_mix.py --n $N --seed 1 --text .device/bench/pride.txt > /tmp/mix.json
tk() {
  python3 - /tmp/mix.json $N >> $R <<'PY'
import json, os, resource, subprocess, sys, time
data, n = sys.argv[1], int(sys.argv[2])
cmd = os.environ["TOKALIGN"].split() + ["compile", "--data", data, "-t", os.environ["TOK"], "--template", "llava_v1",
                                        "--out", "/tmp/shard", "--overwrite", "-j", "1"]
t = time.perf_counter()
p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
s = time.perf_counter() - t
print(json.dumps({"what": "tokalign compile -j 1 (whole process)", "samples": n, "seconds": round(s, 3),
                  "per_s": round(n / s, 1), "rc": p.returncode}))
PY
}
B="python3 bench/device/llava_preprocess_bench.py --llava .device/llava --tokenizer $TOK --data /tmp/mix.json --n $N"
tk  # warms the tokenizer cache; every row is kept
for r in 1 2 3; do
  tk
  $B --hf-threads 1 >> $R 2>> $OUT/percore.err
done
tk
$B --llava-tokenizer slow --procs 1 >> $R 2>> $OUT/percore.err
tk
cat $R
