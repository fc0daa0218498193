#!/usr/bin/env bash
# On the device machine (16 cores, steadier than the 2-core VM): bench/python_encode.sh with
# the carried binaries. The engine (build/bench/encode_engine) and the command run through the
# Debian loader and libraries in .device/guard/lib; the module is the Python 3.12 build from
# bench/device/trainer_prepare.sh. Prepare: trainer_prepare.sh, then
#   cp build/tokalign build/bench/encode_engine .device/guard/
# and run carrying .device/guard .device/trainer .device/tok/llama3. Results under $OUT.
set -uo pipefail
G=.device/guard
LOADER="$G/lib/ld-linux-x86-64.so.2 --library-path $G/lib"
export BIN="$LOADER $G/tokalign" ENGINE="$LOADER $G/encode_engine" PYTHON=python3 TOK=.device/tok/llama3/tokenizer.json
export BENCH_OUT=/tmp/pyenc TOKALIGN_NATIVE_DIR=$PWD/.device/trainer/tokalign
export LD_LIBRARY_PATH=$PWD/.device/trainer/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" "$BENCH_OUT"
bash bench/python_encode.sh --runs "${RUNS:-5}" 2>&1 | tee "$OUT/python_encode.txt"
cp "$BENCH_OUT/py_encode_inproc.txt" "$OUT/" 2>/dev/null
exit 0
