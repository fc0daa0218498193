#!/usr/bin/env bash
# Side-by-side compile benchmark on one machine, one run: tokalign compile (one thread, the
# same on one CPU, and every core; whole process: start, load, read, compile, verify, write
# the shard; and the machine's ceiling: one one-CPU process per core, on a part of the samples
# each) versus the reference any Hugging Face-based preprocessing must at least do
# (bench/hf_compile_ref.js: render the llava_v1 prompt and encode it once per sample with HF
# tokenizers 0.23.2 through its Node binding, RAYON_NUM_THREADS=1 and = cores), on the same
# generated LLaVA-mix data (bench/gen_llava_mix.py), median of several interleaved runs.
#
#   bench/compile_scale.sh [--n SAMPLES] [--runs N]      results: build/bench/compile_scale.md
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=20000 RUNS=5
while [ $# -gt 0 ]; do
  case "$1" in
    --n) N=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    *) echo "compile_scale.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
BIN=${BIN:-build/tokalign}
TOK=../shared/data/tokenizers/llama-2-7b-chat-hf   # LLaVA-1.5's vocabulary, with a tokenizer.json for HF
[ -f "$TOK/tokenizer.json" ] || { echo "compile_scale.sh: needs $TOK (../shared)"; exit 77; }
OUT=build/bench
mkdir -p "$OUT"
CORES=$(nproc)
DATA=$OUT/mix$N.json
[ -f "$DATA" ] || python3 bench/gen_llava_mix.py --n "$N" --seed 1 > "$DATA"
"$BIN" compile --data "$DATA" -t "$TOK" --template llava_v1 --out "$OUT/scale-shard" --overwrite -j 0 2> "$OUT/scale.summary"
node bench/hf_compile_ref.js "$TOK/tokenizer.json" "$DATA" > "$OUT/scale.hf_tokens"
# The machine's ceiling for this work: the samples cut into one part per core, one -j 1 process
# per part, each on a CPU of its own, all at once (each pays its own start and finish).
python3 - "$DATA" "$CORES" "$OUT/mix$N.part" <<'PY'
import json, sys
samples, k = json.load(open(sys.argv[1])), int(sys.argv[2])
for i in range(k):
    json.dump(samples[i * len(samples) // k:(i + 1) * len(samples) // k], open(f"{sys.argv[3]}{i}.json", "w"))
PY
echo "tokalign: $(tail -1 "$OUT/scale.summary")"
echo "HF reference: $(cat "$OUT/scale.hf_tokens") tokens"
# Interleaved, not one command's runs after another's: round r runs all four commands in turn,
# so a shared machine's slow minutes weigh on every row alike. Reported: each command's median
# and minimum, and the per-core ratio of each round's pair (its median), besides the ratio of
# the medians.
python3 - "$OUT/compile_scale.json" "$N" "$CORES" "$RUNS" > "$OUT/compile_scale.md" <<PY
import json, os, statistics as st, subprocess, sys, time
out, n, cores, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
tok = "$BIN compile --data $DATA -t $TOK --template llava_v1 --out $OUT/scale-shard --overwrite -j "
ref = "node bench/hf_compile_ref.js $TOK/tokenizer.json $DATA"
# "one CPU": the whole process on CPU 0 (taskset), tokalign's writer and hash threads too,
# which a plain -j 1 run has on other cores: one core each, as the issue words it.
pin = "taskset -c 0 "
parts = [f"taskset -c {i} $BIN compile --data $OUT/mix$N.part{i}.json -t $TOK --template llava_v1 --out $OUT/scale-part{i} "
         f"--overwrite -j 1" for i in range(int(cores))]
cmds = [("tokalign -j 1", tok + "1", {}), ("tokalign -j 1, one CPU", pin + tok + "1", {}),
        (f"tokalign -j {cores}", tok + cores, {}),
        (f"tokalign, {cores} processes -j 1 on a part each, one CPU each (the ceiling)", parts, {}),
        ("HF reference, 1 thread", ref, {"RAYON_NUM_THREADS": "1"}),
        ("HF reference, 1 thread, one CPU", pin + ref, {"RAYON_NUM_THREADS": "1"}),
        (f"HF reference, {cores} threads", ref, {"RAYON_NUM_THREADS": cores})]
times = {name: [] for name, _, _ in cmds}
for r in range(runs + 1):  # round 0 warms the caches and is not kept
    for name, cmd, env in cmds:
        t = time.perf_counter()
        # (a list: its commands at once, timed until the last ends)
        procs = [subprocess.Popen(c.split(), env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for c in (cmd if isinstance(cmd, list) else [cmd])]
        if any(p.wait() for p in procs): sys.exit(f"compile_scale.sh: failed: {cmd}")
        if r: times[name].append(time.perf_counter() - t)
json.dump({"runs": runs, "samples": n, "seconds": times}, open(out, "w"), indent=1)
med = {k: st.median(v) for k, v in times.items()}
print("| what | median s | min s | samples/s |\n|---|---|---|---|")
for name, _, _ in cmds:
    print(f"| {name} | {med[name]:.3f} | {min(times[name]):.3f} | {n / med[name]:.0f} |")
t1, tn = med["tokalign -j 1"], med[f"tokalign -j {cores}"]
h1, hn = med["HF reference, 1 thread"], med[f"HF reference, {cores} threads"]
pairs = st.median(h / t for h, t in zip(times["HF reference, 1 thread"], times["tokalign -j 1"]))
p1, q1 = med["tokalign -j 1, one CPU"], med["HF reference, 1 thread, one CPU"]
ppairs = st.median(h / t for h, t in zip(times["HF reference, 1 thread, one CPU"], times["tokalign -j 1, one CPU"]))
print(f"\nper core: tokalign / HF reference = {h1 / t1:.1f}x (median of the {runs} rounds' own ratios: {pairs:.1f}x); "
      f"all {cores} cores: {hn / tn:.1f}x; tokalign scaling 1 -> {cores} threads: {t1 / tn:.2f}x")
print(f"one CPU each (taskset): tokalign / HF reference = {q1 / p1:.1f}x (rounds' own ratios: {ppairs:.1f}x); "
      f"scaling from one CPU to all {cores}: tokalign {p1 / tn:.2f}x, HF reference {q1 / hn:.2f}x")
ceiling = med[f"tokalign, {cores} processes -j 1 on a part each, one CPU each (the ceiling)"]
print(f"the machine's ceiling for tokalign ({cores} one-CPU processes on a part each, at once): {p1 / ceiling:.2f}x "
      f"the one-CPU run; -j {cores} gets {ceiling / tn:.0%} of it")
PY
cat "$OUT/compile_scale.md"
