#!/bin/bash
# On the device machine: a parted run (--part-size 100000) against one shard of the same 2M
# samples (LLaVA-mix shape, 3.2 GB of JSON Lines), -j 16, whole-process wall times, with each
# run's stats lines (TOKALIGN_PIPELINE_STATS: where the threads waited, the other threads'
# CPU). With .device/guard/tokalign_prev (prepare.sh PREV), every row runs with both builds,
# interleaved. ROUNDS rounds (default 2) to the disk (/tmp), then one to memory (/dev/shm).
# Each run's output is deleted before the next, outside its time.
# Results: $OUT/parted.txt, and $OUT/vmstat.txt over the runs.
set -u
source "$(dirname "$0")/env.sh"
G=.device/guard
L="$G/lib/ld-linux-x86-64.so.2 --library-path $G/lib"
R=$OUT/parted.txt
python3 bench/gen_llava_mix.py --n 665000 --seed 2 --format jsonl --text .device/bench/pride.txt > /tmp/m665k.jsonl
cat /tmp/m665k.jsonl /tmp/m665k.jsonl /tmp/m665k.jsonl > /tmp/m2m.jsonl
rm -f /tmp/m665k.jsonl
builds=(tokalign)
[ -x $G/tokalign_prev ] && builds+=(tokalign_prev)
one() {  # BUILD OUTDIR [extra args]
  local b=$1 o=$2
  shift 2
  # The previous run's output goes first, outside the time (--overwrite would delete it beside
  # the run and wait for that at the end: 6 GB on this disk, which discards what is deleted,
  # took up to 2 s and moved from run to run).
  rm -rf $o
  sync
  local s=$EPOCHREALTIME
  TOKALIGN_PIPELINE_STATS=1 $L $G/$b compile --data /tmp/m2m.jsonl -t $TOK --template llava_v1 --out $o --overwrite \
    -j 16 "$@" 2> /tmp/parted_err.txt > /dev/null
  local rc=$?
  echo "== $(date +%T) $b $o ${*:-(one shard)} wall $(awk -v a=$s -v b=$EPOCHREALTIME 'BEGIN{printf "%.3f", b-a}') rc=$rc" >> $R
  grep -E "pipeline on|records|other threads" /tmp/parted_err.txt | sed 's/^/  /' >> $R
}
vmstat -n -t 1 > $OUT/vmstat.txt &
VM=$!
one tokalign /tmp/shard  # the tokenizer cache, and the page cache
for r in $(seq ${ROUNDS:-2}); do
  for b in "${builds[@]}"; do
    one $b /tmp/shard
    one $b /tmp/shard --part-size 100000
  done
done
rm -rf /tmp/shard
for b in "${builds[@]}"; do
  one $b /dev/shm/shard
  one $b /dev/shm/shard --part-size 100000
done
rm -rf /dev/shm/shard
kill $VM
grep "^==" $R
