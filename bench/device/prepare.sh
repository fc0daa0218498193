#!/bin/bash
# Fills .device/ (git-ignored; carry it to the device machine) for bench/device/percore_job.sh,
# compile_job.sh, scale_job.sh and ceiling_job.sh, from this checkout and ../shared:
#   .device/guard/tokalign      build/tokalign (build it first: make build)
#   .device/guard/tokalign_prev PREV, when given: an earlier build measured beside it
#   .device/guard/compile_engine build/bench/compile_engine, when built
#   .device/guard/checksum_bench build/bench/checksum_bench, when built
#   .device/guard/lib/          the Debian libraries both link against, and their loader (the
#                               device's Python image has other versions; the jobs run the
#                               binaries through this loader, bench/device/env.sh)
#   .device/tok/vicuna          LLaVA-1.5's tokenizer as it ships (tokenizer.model only)
#   .device/bench/pride.txt     the text gen_llava_mix.py draws words from
#   .device/spin                bench/device/spin.c, static (machine_job.sh)
#   .device/llava/              LLaVA's sources (llava/{conversation,mm_utils,constants}.py and
#                               llava/train/train.py), from a git checkout given as LLAVA_GIT
# usage: bash bench/device/prepare.sh [PREV]   (LLAVA_GIT=/path/to/LLaVA/.git, optional)
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SHARED:-../shared}
D=.device
[ -x build/tokalign ] || { echo "prepare: build/tokalign is missing (make build)" >&2; exit 1; }
mkdir -p $D/guard/lib $D/tok $D/bench
cp build/tokalign $D/guard/tokalign
# The compile loop alone (bench/compile_engine.cc), for percore_job.sh's like-for-like row.
if [ -x build/bench/compile_engine ]; then cp build/bench/compile_engine $D/guard/compile_engine; else rm -f $D/guard/compile_engine; fi
# The shard checksums, CRC-32 and SHA-256 (bench/checksum_bench.cc), for the device's CPU.
BINS=build/tokalign
rm -f $D/guard/sha256_pair_bench  # (its earlier name)
if [ -x build/bench/checksum_bench ]; then
  cp build/bench/checksum_bench $D/guard/checksum_bench
  BINS="$BINS build/bench/checksum_bench"
else
  rm -f $D/guard/checksum_bench
fi
if [ $# -ge 1 ]; then cp "$1" $D/guard/tokalign_prev; else rm -f $D/guard/tokalign_prev; fi
# Every shared library the binaries resolve, and the loader (ldd's "=> path" and its own line).
for bin in $BINS; do ldd $bin; done | awk '/=> \//{print $3} /ld-linux/{print $1}' | sort -u | while read -r lib; do
  cp -L "$lib" $D/guard/lib/
done
cp -L "$(ldd build/tokalign | awk '/ld-linux/{print $1}')" $D/guard/lib/ld-linux-x86-64.so.2
# Other allocators for runtime_job.sh, preloaded there: where this machine has them (apt install
# libjemalloc2 libmimalloc2.0).
for lib in libjemalloc.so.2 libmimalloc.so.2; do
  if [ -f /usr/lib/x86_64-linux-gnu/$lib ]; then cp -L /usr/lib/x86_64-linux-gnu/$lib $D/guard/lib/; else rm -f $D/guard/lib/$lib; fi
done
if [ ! -f $D/tok/vicuna/tokenizer.model ]; then
  [ -d "$SHARED/data/tokenizers/vicuna-7b-v1.5" ] || { echo "prepare: $SHARED/data/tokenizers/vicuna-7b-v1.5 is missing" >&2; exit 1; }
  rm -rf $D/tok/vicuna
  cp -r "$SHARED/data/tokenizers/vicuna-7b-v1.5" $D/tok/vicuna
  chmod -R u+w $D/tok/vicuna
fi
[ -f $D/bench/pride.txt ] || cp "$SHARED/data/text/pride_and_prejudice.txt" $D/bench/pride.txt
if [ -n "${LLAVA_GIT:-}" ]; then
  rm -rf $D/llava
  mkdir -p $D/llava/llava/train
  # No llava/__init__.py: LLaVA's imports its model code (torch modules the oracle never uses).
  for f in llava/conversation.py llava/mm_utils.py llava/constants.py llava/train/train.py; do
    git --git-dir="$LLAVA_GIT" show "HEAD:$f" > "$D/llava/$f"
  done
fi
# The machine's own ceiling (machine_job.sh): a static binary, the device may have no compiler.
gcc -O2 -static -o $D/spin bench/device/spin.c || echo "prepare: could not build $D/spin (machine_job.sh needs it)" >&2
[ -f $D/llava/llava/train/train.py ] || echo "prepare: no $D/llava yet (LLAVA_GIT=... bash $0): percore/compile jobs need it" >&2
# The loader runs the binary: check it does here.
$D/guard/lib/ld-linux-x86-64.so.2 --library-path $D/guard/lib $D/guard/tokalign --help > /dev/null
du -sh $D/guard $D/tok/vicuna $D/bench $D/llava 2>/dev/null
