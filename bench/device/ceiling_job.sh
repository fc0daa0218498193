#!/bin/bash
# On the device machine: how close tokalign compile -j N comes to the machine's own ceiling,
# which is N independent single-thread processes on N equal slices of the same input (no
# shared reader, writer or caches; each slice is its own file). Whole-process wall times.
# Expects .device/guard/{tokalign,lib/}, .device/tok/vicuna, .device/bench/pride.txt.
set -u
source "$(dirname "$0")/env.sh"
N=${N:-665000}
R=$OUT/ceiling.jsonl
CORES=$(nproc)
python3 bench/gen_llava_mix.py --n $N --seed 2 --format jsonl --text .device/bench/pride.txt > /tmp/c.jsonl
rm -rf /tmp/slices && mkdir -p /tmp/slices && split -n l/$CORES -d -a 2 /tmp/c.jsonl /tmp/slices/s
$TOKALIGN compile --data /tmp/slices/s00 -t $TOK --template llava_v1 --out /tmp/warm --overwrite -j 1 2>/dev/null  # tokenizer cache
now() { date +%s.%N; }
for run in 1 2 3; do
  t0=$(now)
  $TOKALIGN compile --data /tmp/c.jsonl -t $TOK --template llava_v1 --out /tmp/whole --overwrite -j $CORES 2>/dev/null
  t1=$(now)
  for f in /tmp/slices/s*; do
    $TOKALIGN compile --data $f -t $TOK --template llava_v1 --out /tmp/out-$(basename $f) --overwrite -j 1 2>/dev/null &
  done
  wait
  t2=$(now)
  t3=$t2
  if [ "$run" = 1 ]; then  # one process, one thread, the whole input: the single-core baseline
    $TOKALIGN compile --data /tmp/c.jsonl -t $TOK --template llava_v1 --out /tmp/one --overwrite -j 1 2>/dev/null
    t3=$(now)
  fi
  python3 -c "
import json,sys
t0,t1,t2,t3=map(float,sys.argv[1:5]); n=int(sys.argv[5]); c=int(sys.argv[6])
r={'samples':n,'cores':c,'j_all_s':round(t1-t0,3),'independent_s':round(t2-t1,3),
   'j_all_per_s':round(n/(t1-t0)),'independent_per_s':round(n/(t2-t1)),'share_of_ceiling':round((t2-t1)/(t1-t0),3)}
if t3>t2: r['j1_s']=round(t3-t2,3); r['j1_per_s']=round(n/(t3-t2))
print(json.dumps(r))" $t0 $t1 $t2 $t3 $N $CORES >> $R
done
cat $R
