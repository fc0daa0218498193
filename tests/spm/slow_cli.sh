#!/usr/bin/env bash
# encode --slow's contract: --tokens shows the pieces (legacy=False puts no "▁" after a special
# token, legacy=True does, as transformers documents for "Hello <s>."); --legacy overrides the
# config and goes only with --slow; --offsets is refused (the slow tokenizer has none); a folder
# without tokenizer.model, or with a Git LFS pointer in its place, is an error naming the file;
# input that is not UTF-8 is an error naming the file and byte.
# Usage: slow_cli.sh TOKALIGN WORKDIR (exit 77 without ../shared).
set -uo pipefail
BIN=$1 W=$2
V=../shared/data/tokenizers/vicuna-7b-v1.5
[[ -d $V ]] || { echo "SKIP: $V is absent"; exit 77; }
mkdir -p "$W/lfs"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
# transformers' LlamaTokenizer docstring: legacy=True [1, 15043, 29871, 1, 869], legacy=False [1, 15043, 29871, 1, 29889].
[[ $("$BIN" encode --slow --legacy true -t $V --text "Hello <s>.") == '{"ids":[1,15043,29871,1,869]}' ]] || fail "legacy=True example"
[[ $("$BIN" encode --slow --legacy false -t $V --text "Hello <s>.") == '{"ids":[1,15043,29871,1,29889]}' ]] || fail "legacy=False example"
"$BIN" encode --slow -t $V --tokens --text "Hi</s>USER" > "$W/tokens"
grep -q " </s>$" "$W/tokens" && grep -q " USER$" "$W/tokens" || fail "--tokens: $(cat "$W/tokens")"
[[ $("$BIN" encode --slow -t $V --count --text "Hello <s>.") == 5 ]] || fail "--count"
printf '{"text":"Hello"}\n{"text":""}\n' | "$BIN" encode --slow -t $V --jsonl --no-add-special > "$W/j"
[[ $(cat "$W/j") == $'{"ids":[15043]}\n{"ids":[]}' ]] || fail "--jsonl: $(cat "$W/j")"
"$BIN" encode --legacy true -t $V --text x 2> "$W/err"; [[ $? == 2 ]] || fail "--legacy without --slow accepted"
"$BIN" encode --slow --offsets -t $V --text x 2> "$W/err"; [[ $? == 2 ]] || fail "--offsets with --slow accepted"
grep -q "no offsets" "$W/err" || fail "--offsets message: $(cat "$W/err")"
"$BIN" encode --slow -t "$W" --text x 2> "$W/err" && fail "no tokenizer.model accepted"
grep -q "$W/tokenizer.model: not found" "$W/err" || fail "missing model message: $(cat "$W/err")"
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n' > "$W/lfs/tokenizer.model"
"$BIN" encode --slow -t "$W/lfs" --text x 2> "$W/err" && fail "LFS pointer accepted"
grep -q "Git LFS pointer" "$W/err" || fail "LFS message: $(cat "$W/err")"
printf 'ok \xff bad' > "$W/bad.txt"
"$BIN" encode --slow -t $V -i "$W/bad.txt" 2> "$W/err" && fail "invalid UTF-8 accepted"
grep -q "bad.txt: input is not valid UTF-8 at byte 3" "$W/err" || fail "invalid UTF-8 message: $(cat "$W/err")"
echo "encode --slow cli: $fails failure(s)"
exit $((fails > 0))
