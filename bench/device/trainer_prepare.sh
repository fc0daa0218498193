#!/usr/bin/env bash
# Prepares .device/trainer/ for bench/device/trainer_job.sh (issue 10's Trainer run), here:
# the Python module built for the device's Python 3.12 (against a Python 3.12 tree with its
# headers: PY312, default pyenv's 3.12.1; the device has no compiler or -dev libraries), the
# package's .py files, the Debian libraries the module links (not glibc / libstdc++: the
# device's are newer), a 3,000-sample LLaVA-mix dataset and the shard tokalign compiles from it
# with TinyLlama's tokenizer (.device/tok/tinyllama) and llava_v1.
#   bash bench/device/trainer_prepare.sh
#   then run: bash bench/device/trainer_job.sh   carrying .device/trainer .device/tok/tinyllama .device/llava
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
PY312=${PY312:-$HOME/.pyenv/versions/3.12.1/bin/python3.12}
T=.device/trainer
TOK=.device/tok/tinyllama
[ -x "$PY312" ] || { echo "trainer_prepare.sh: needs a Python 3.12 with headers (PY312=...)"; exit 1; }
[ -f "$TOK/tokenizer.model" ] || { echo "trainer_prepare.sh: needs $TOK (TinyLlama's tokenizer folder)"; exit 1; }
mkdir -p "$T/tokalign" "$T/lib"
cmake -S . -B build-py312 -DCMAKE_BUILD_TYPE=Release -DTOKALIGN_TESTS=OFF -DTOKALIGN_BENCH=OFF -DTOKALIGN_PYTHON=ON \
  -DPython3_EXECUTABLE="$PY312" -DTOKALIGN_PYTHON_OUTPUT_DIR="$ROOT/$T/tokalign" > /dev/null
cmake --build build-py312 -j"$(nproc)" --target tokalign_python > /dev/null
cp python/tokalign/*.py "$T/tokalign/"
cp python/tokalign_shard.py "$T/"
for l in $(readelf -d "$T"/tokalign/_native*.so | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
  case "$l" in libc.so*|libm.so*|libgcc_s*|libstdc++*|ld-linux*) ;; *) cp -L "/usr/lib/x86_64-linux-gnu/$l" "$T/lib/" ;; esac
done
[ -f "$T/mix3000.json" ] || python3 bench/gen_llava_mix.py --n 3000 --seed 7 > "$T/mix3000.json"
build/tokalign compile --data "$T/mix3000.json" -t "$TOK" --template llava_v1 --out "$T/shard" --overwrite
du -sh "$T"
