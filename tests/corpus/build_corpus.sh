#!/usr/bin/env bash
# Builds the full parity corpus: the hand-written lines of corpus.jsonl
# followed by the generated long lines of make_long.js.
#
#   tests/corpus/build_corpus.sh OUT_FILE
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_FILE" >&2
  exit 2
fi
out=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

mkdir -p "$(dirname "$out")"
tmp=$(mktemp "${out}.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cat "$here/corpus.jsonl" > "$tmp"
node "$here/make_long.js" - >> "$tmp"
mv "$tmp" "$out"
trap - EXIT
