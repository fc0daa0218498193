#!/usr/bin/env bash
# Side-by-side compile benchmark on one machine, one run: tokalign compile (one thread and
# every core, whole process: start, load, read, compile, verify, write the shard) versus the
# reference any Hugging Face-based preprocessing must at least do (bench/hf_compile_ref.js:
# render the llava_v1 prompt and encode it once per sample with HF tokenizers 0.23.2 through
# its Node binding, RAYON_NUM_THREADS=1 and = cores), on the same generated LLaVA-mix data
# (bench/gen_llava_mix.py), median of several runs (hyperfine).
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
echo "tokalign: $(tail -1 "$OUT/scale.summary")"
echo "HF reference: $(cat "$OUT/scale.hf_tokens") tokens"
hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$OUT/compile_scale.json" \
  -n "tokalign -j 1" "$BIN compile --data $DATA -t $TOK --template llava_v1 --out $OUT/scale-shard --overwrite -j 1" \
  -n "tokalign -j $CORES" "$BIN compile --data $DATA -t $TOK --template llava_v1 --out $OUT/scale-shard --overwrite -j $CORES" \
  -n "HF reference, 1 thread" "env RAYON_NUM_THREADS=1 node bench/hf_compile_ref.js $TOK/tokenizer.json $DATA" \
  -n "HF reference, $CORES threads" "env RAYON_NUM_THREADS=$CORES node bench/hf_compile_ref.js $TOK/tokenizer.json $DATA" \
  > /dev/null
python3 - "$OUT/compile_scale.json" "$N" "$CORES" > "$OUT/compile_scale.md" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
n, cores = int(sys.argv[2]), sys.argv[3]
med = {r["command"]: r["median"] for r in res}
print(f"| what | median s | samples/s |\n|---|---|---|")
for r in res:
    print(f"| {r['command']} | {r['median']:.3f} | {n / r['median']:.0f} |")
t1, tn = med["tokalign -j 1"], med[f"tokalign -j {cores}"]
h1, hn = med["HF reference, 1 thread"], med[f"HF reference, {cores} threads"]
print(f"\nper core: tokalign / HF reference = {h1 / t1:.1f}x; all {cores} cores: {hn / tn:.1f}x; "
      f"tokalign scaling 1 -> {cores} threads: {t1 / tn:.2f}x")
PY
cat "$OUT/compile_scale.md"
