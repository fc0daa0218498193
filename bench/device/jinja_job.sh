#!/bin/bash
# On the device machine (transformers 5.x, jinja2): every chat template in .device/jinja/
# (bench/device/jinja_prepare.sh fills it, here; carry .device/jinja) x the corpus x {with,
# without} add_generation_prompt, rendered by transformers' own code (bench/device/
# jinja_render.py, --generation-spans, strftime_now fixed to $DATE), one process for all.
#   $OUT/jinja/<name>.gen.jsonl, <name>.nogen.jsonl   one line per corpus line, in order
#   $OUT/jinja/summary.tsv                            name, mode, lines, texts, errors
#   $OUT/jinja/versions.txt, stderr.txt
# $OUT comes back with at most 8 files, so with PACK=1 (the default) the folder is packed as
# $OUT/jinja.tar.gz and removed: tar xzf jinja.tar.gz gives jinja/ back.
# The same loop runs locally with the node oracle: RENDER=node OUT=/tmp/x PACK=0 bash bench/device/jinja_job.sh
set -u
cd "$(dirname "$0")/../.." || exit 1
J=${JINJA:-.device/jinja}
M=${MESSAGES:-$J/messages.jsonl}
[ -f "$M" ] || M=tests/chat/jinja/messages.jsonl
DATE=${DATE:-2026-11-28}
O=$OUT/jinja
mkdir -p "$O"
ls "$J"/templates/*.jinja > /dev/null || { echo "jinja_job: no templates in $J/templates (run bench/device/jinja_prepare.sh, carry .device/jinja)" >&2; exit 1; }
spans=--generation-spans
[ "${RENDER:-python}" = node ] && spans=""
runs=$O/runs.txt
: > "$runs"
for f in "$J"/templates/*.jinja; do
  name=$(basename "$f" .jinja)
  cfg=""
  [ -f "$J/templates/$name.tokens.json" ] && cfg="--config $J/templates/$name.tokens.json"
  for mode in nogen gen; do
    gen=""
    [ $mode = gen ] && gen=--add-generation-prompt
    echo "--template $f $cfg --messages $M --date $DATE $gen $spans --out $O/$name.$mode.jsonl" >> "$runs"
  done
done
if [ "${RENDER:-python}" = node ]; then
  node --version > "$O/versions.txt"
  node -e 'console.log("@huggingface/jinja " + require("./oracle/node_modules/@huggingface/jinja/package.json").version)' >> "$O/versions.txt"
  while read -r line; do
    out=${line##* --out }
    # shellcheck disable=SC2086
    node oracle/jinja_render.js ${line% --out *} > "$out" 2>> "$O/stderr.txt"
  done < "$runs"
else
  python3 -c 'import sys, jinja2, transformers; print("python", sys.version.split()[0]); print("transformers", transformers.__version__); print("jinja2", jinja2.__version__)' > "$O/versions.txt" 2>&1
  python3 bench/device/jinja_render.py --many "$runs" 2>> "$O/stderr.txt"
fi
rm -f "$runs"
printf 'name\tmode\tlines\ttexts\terrors\n' > "$O/summary.tsv"
for f in "$O"/*.jsonl; do
  b=$(basename "$f" .jsonl)
  printf '%s\t%s\t%s\t%s\t%s\n' "${b%.*}" "${b##*.}" "$(grep -c . "$f")" "$(grep -c '^{"text"' "$f")" "$(grep -c '^{"error"' "$f")" >> "$O/summary.tsv"
done
cat "$O/versions.txt"
column -t "$O/summary.tsv" 2>/dev/null || cat "$O/summary.tsv"
if [ "${PACK:-1}" = 1 ]; then
  tar czf "$OUT/jinja.tar.gz" -C "$OUT" jinja && rm -rf "$O"
fi
