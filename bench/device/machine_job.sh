#!/bin/bash
# On the device machine: what the machine itself gives, without tokalign (bench/device/spin.c,
# built by prepare.sh into .device/spin). Each of a compute-only loop, an L2-sized random walk
# and a memory-latency walk: alone on core 0 three times, then on every core at once (each
# pinned), twice; then core 0 beside each other core in turn (two vCPUs on one physical core
# would slow each other down). Results: $OUT/machine.txt (seconds per run).
set -u
S=.device/spin
[ -x $S ] || { echo "machine_job: $S is missing (bash bench/device/prepare.sh)" >&2; exit 1; }
N=$(nproc)
R=$OUT/machine.txt
lscpu > $OUT/lscpu.txt
declare -A IT=([0]=400000000 [1]=40000000 [2]=4000000)
for round in 1 2; do
  for m in 0 1 2; do
    for r in 1 2 3; do echo "mode $m alone $(taskset -c 0 $S $m ${IT[$m]} | cut -d' ' -f1)" >> $R; done
    for c in $(seq 0 $((N - 1))); do taskset -c $c $S $m ${IT[$m]} > /tmp/spin$c.txt & done
    wait
    echo "mode $m all $(for c in $(seq 0 $((N - 1))); do cut -d' ' -f1 /tmp/spin$c.txt; done | tr '\n' ' ')" >> $R
  done
done
for k in $(seq 1 $((N - 1))); do
  taskset -c $k $S 0 ${IT[0]} > /tmp/spin_k.txt &
  a=$(taskset -c 0 $S 0 ${IT[0]} | cut -d' ' -f1)
  wait
  echo "pair 0+$k $a $(cut -d' ' -f1 /tmp/spin_k.txt)" >> $R
done
awk '/^cpu /{print "steal_ticks", $9}' /proc/stat >> $R
cat $R
