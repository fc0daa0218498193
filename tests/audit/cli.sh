#!/usr/bin/env bash
# The audit command's contract: exit 0 when LLaVA would train every sample, 1 when one is zeroed
# or raises; an unknown --version is reported as LLaVA's silent vicuna_v1 fallback; samples LLaVA
# trains with other labels than intended are named (a Japanese answer after "ASSISTANT: " keeps
# its space token trained); the summary proposes versions and the compile command; the
# transformers version decides the tokenizer (4.37: TinyLlama's slow tokenizer adds a BOS, 5.x's
# does not; a LlamaTokenizer folder without tokenizer.model cannot load slow); --ids gives
# LLaVA's input_ids and labels.
# Usage: cli.sh TOKALIGN WORKDIR (exit 77 without ../shared).
set -uo pipefail
BIN=$1 W=$2
V=../shared/data/tokenizers/vicuna-7b-v1.5
[[ -d $V ]] || { echo "SKIP: $V is absent"; exit 77; }
mkdir -p "$W"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
printf '%s\n' '{"id": "a", "image": "x.png", "conversations": [{"from": "human", "value": "<image>\nWhat?"}, {"from": "gpt", "value": "A cat."}]}' \
  '{"id": "b", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}, {"from": "human", "value": "Bye"}, {"from": "gpt", "value": "Bye."}]}' > "$W/ok.jsonl"
"$BIN" audit --data "$W/ok.jsonl" -t $V --version v1 2> "$W/err"; [[ $? == 0 ]] || { fail "clean data: exit $?"; cat "$W/err"; }
grep -q "2 samples, 0 zeroed (0 mismatches), 0 raise" "$W/err" || fail "clean summary: $(cat "$W/err")"
"$BIN" audit --data "$W/ok.jsonl" -t $V --version vicuna 2> "$W/err"; [[ $? == 0 ]] || fail "fallback: exit"
grep -q "not one of llava's conversation templates; its train() silently uses vicuna_v1" "$W/err" || fail "no fallback warning"
"$BIN" audit --data examples/llava_demo.json -t $V --version llava_v1 --format jsonl --out "$W/demo.jsonl" 2> "$W/err"; rc=$?
[[ $rc == 1 ]] || fail "demo: exit $rc, want 1"
grep -q '"id":"demo-3-eos-in-answer".*"zeroed":true.*"warning":"WARNING: tokenization mismatch: 77 vs. 100. (ignored)"' "$W/demo.jsonl" || fail "demo-3 line"
grep -q '"id":"demo-4-text-only".*"labels_differ":"labels differ from tokalign.s at position 48' "$W/demo.jsonl" || fail "demo-4 labels_differ"
grep -q "tokalign compile --data examples/llava_demo.json" "$W/err" || fail "no compile suggestion"
grep -q "why, demo-3-eos-in-answer: cur_len 77 = start 1 + .*The count stopped early" "$W/err" || fail "no explanation for demo-3: $(grep why "$W/err")"
T=../shared/data/tokenizers/tinyllama-1.1b-chat-v1.0
for tv in 4.37 5; do
  "$BIN" audit --data "$W/ok.jsonl" -t $T --version v1 --transformers-version $tv --format jsonl --ids --out "$W/tl-$tv.jsonl" 2> "$W/err-$tv"
done
grep -q '"id":"a".*"input_ids":\[1,' "$W/tl-4.37.jsonl" || fail "4.37 TinyLlama: no BOS: $(head -c 300 "$W/tl-4.37.jsonl")"
grep -q '"id":"a".*"input_ids":\[1,' "$W/tl-5.jsonl" && fail "5.x TinyLlama: a BOS"
grep -q "slow LlamaTokenizer, transformers 4.37" "$W/err-4.37" || fail "4.37 summary: $(cat "$W/err-4.37")"
node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean)) {
  const o = JSON.parse(l); if (!o.input_ids || o.input_ids.length !== o.labels.length) process.exit(1); }' "$W/tl-4.37.jsonl" \
  || fail "--ids: input_ids and labels of different lengths"
"$BIN" audit --data "$W/ok.jsonl" -t ../shared/data/tokenizers/mistral-7b-v0.1 --version v1 2> "$W/err"; rc=$?
[[ $rc != 0 && $rc != 1 ]] || fail "4.37 without tokenizer.model: exit $rc"
grep -q "from tokenizer.model, which is not there" "$W/err" || fail "4.37 without tokenizer.model: $(cat "$W/err")"
"$BIN" audit --data "$W/ok.jsonl" -t $V --version v1 --transformers-version 4.36 2> "$W/err" && fail "--transformers-version 4.36 accepted"
echo "audit cli: $fails failure(s)"
exit $((fails > 0))
