#!/bin/bash
# On the device machine: how close tokalign compile comes to the machine's own ceiling on
# C CPUs, which is C independent single-thread processes at once, each pinned to a CPU of
# its own and compiling an equal slice of the same input (its own file: no shared reader,
# writer, caches or word tables). Whole-process wall times in interleaved rounds (ROUNDS,
# default 3); in each, for each C in CPUS (default: every CPU): the whole input at each
# thread count in JS (default "0", what compile picks; "0 16" adds -j 16) on the first C
# CPUs (taskset), then the C independent processes, then the first slice alone on CPU 0 (so
# the C processes' time splits into the machine's slowdown with C CPUs busy and each slice's
# own start). The first round also runs -j 1 with the whole process on one CPU, the base
# that scaling is counted from.
# FORMAT=json|jsonl (default json, as LLaVA's mixture ships); DEST: where inputs and shards
# go (default /dev/shm; /tmp is the device's disk, with its syncs).
# Expects .device/guard/{tokalign,lib/}, .device/tok/vicuna, .device/bench/pride.txt.
# Results: $OUT/ceiling.txt (a line a run) and a summary.
set -u
source "$(dirname "$0")/env.sh"
N=${N:-665000}
FORMAT=${FORMAT:-json}
DEST=${DEST:-/dev/shm}
CPUS=${CPUS:-$(nproc)}
R=$OUT/ceiling.txt
: > $R
python3 bench/gen_llava_mix.py --n $N --seed 1 --format $FORMAT --text .device/bench/pride.txt > $DEST/c.json
for c in $CPUS; do
  rm -rf $DEST/slices$c && mkdir -p $DEST/slices$c
  python3 - $DEST/c.json $c $DEST/slices$c $FORMAT <<'PY'
import json, sys
path, k, out, fmt = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
if fmt == "json":
    samples = json.load(open(path))
    for i in range(k):
        json.dump(samples[i * len(samples) // k:(i + 1) * len(samples) // k], open(f"{out}/s{i:02}", "w"))
else:
    lines = open(path).read().splitlines(keepends=True)
    for i in range(k):
        open(f"{out}/s{i:02}", "w").writelines(lines[i * len(lines) // k:(i + 1) * len(lines) // k])
PY
done
$TOKALIGN compile --data $DEST/c.json -t $TOK --template llava_v1 --out $DEST/warm --overwrite -j 0 2>/dev/null  # tokenizer cache
rm -rf $DEST/warm
timed() {  # LABEL COMMAND...: runs it, appends "== LABEL wall S"
  local label=$1 t0=$EPOCHREALTIME
  shift
  "$@"
  echo "== $label wall $(awk -v a=$t0 -v b=$EPOCHREALTIME 'BEGIN{printf "%.3f", b-a}')" >> $R
}
independent() {  # C: C pinned one-thread processes, a slice each
  local f
  for f in $DEST/slices$1/s*; do
    taskset -c $((10#${f##*/s})) $TOKALIGN compile --data $f -t $TOK --template llava_v1 --out $DEST/out-${f##*/} -j 1 2>/dev/null &
  done
  wait
}
for run in $(seq ${ROUNDS:-3}); do
  for c in $CPUS; do
    for j in ${JS:-0}; do
      rm -rf $DEST/whole
      timed "cpus=$c whole-j$j" taskset -c 0-$((c - 1)) $TOKALIGN compile --data $DEST/c.json -t $TOK --template llava_v1 --out $DEST/whole -j $j 2>/dev/null
    done
    rm -rf $DEST/whole $DEST/out-*
    timed "cpus=$c independent" independent $c
    rm -rf $DEST/out-*
    # The first slice alone on CPU 0: against the C processes' time, what C CPUs busy at once
    # cost each one (the machine's own slowdown under load, with each slice's own start).
    timed "cpus=$c slice-alone" taskset -c 0 $TOKALIGN compile --data $DEST/slices$c/s00 -t $TOK --template llava_v1 --out $DEST/out-alone -j 1 2>/dev/null
    rm -rf $DEST/out-*
  done
  if [ "$run" = 1 ]; then
    rm -rf $DEST/one
    timed "cpus=1 one-cpu" taskset -c 0 $TOKALIGN compile --data $DEST/c.json -t $TOK --template llava_v1 --out $DEST/one -j 1 2>/dev/null
    rm -rf $DEST/one
  fi
done
rm -rf $DEST/c.json $DEST/slices*
python3 - $R <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"== cpus=(\d+) (\S+) wall (\S+)", line)
    if m:
        rows.setdefault((int(m.group(1)), m.group(2)), []).append(float(m.group(3)))
one = rows.pop((1, "one-cpu"))[0]
print(f"one process, one thread, one CPU: {one:.3f} s")
for (c, what), v in sorted(rows.items()):
    med = statistics.median(v)
    ceiling = statistics.median(rows[(c, "independent")])
    alone = statistics.median(rows[(c, "slice-alone")])
    line = f"{c:2} CPUs, {what:12}: median {med:.3f} s of {', '.join(f'{x:.3f}' for x in v)}"
    if what == "slice-alone":
        line += f"; the {c} slices together {ceiling / alone:.2f}x as long: {c * alone / ceiling:.2f}x the work of one CPU alone"
    else:
        line += f"; {one / med:.2f}x the one-CPU run"
    if what.startswith("whole"):
        line += f", {ceiling / med:.0%} of the ceiling"
    print(line)
PY
