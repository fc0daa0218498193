#!/usr/bin/env bash
# The benchmark scripts parse: bench/ and bench/device/ shell scripts (bash -n), their Python
# files, and the Python each shell script runs from a quoted here-document (<<'PY' ... PY).
# The device jobs run only on the device machine, whose time is scarce: a syntax error
# found there costs a call.
#   tests/bench/scripts_parse.sh [ROOT]
set -u
ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 1
bad=0 checked=0
for f in bench/*.sh bench/device/*.sh; do
  checked=$((checked + 1))
  bash -n "$f" || { echo "FAIL: $f does not parse (bash -n)"; bad=1; }
done
py_ok() {  # NAME: Python source on stdin parses
  python3 -c 'import ast, sys; ast.parse(sys.stdin.read(), sys.argv[1])' "$1"
}
for f in bench/*.py bench/device/*.py; do
  checked=$((checked + 1))
  py_ok "$f" < "$f" || { echo "FAIL: $f does not parse (Python)"; bad=1; }
done
# Each quoted PY here-document of each shell script, numbered in its file.
for f in bench/*.sh bench/device/*.sh; do
  n=$(grep -c "<<'PY'" "$f")
  for k in $(seq 1 "$n"); do
    checked=$((checked + 1))
    awk -v want="$k" '
      /<<'"'"'PY'"'"'/ { seen++; if (seen == want) { on = 1; next } }
      on && /^PY$/ { exit }
      on { print }' "$f" | py_ok "$f (here-document $k)" ||
      { echo "FAIL: $f: the Python of its here-document $k does not parse"; bad=1; }
  done
done
[ "$checked" -gt 0 ] || { echo "FAIL: no benchmark script found under $ROOT/bench"; exit 1; }
[ $bad = 0 ] && echo "ok: $checked benchmark scripts and here-documents parse"
exit $bad
