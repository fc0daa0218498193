#!/bin/bash
# On the device machine: this build against the previous one (.device/guard/tokalign and
# tokalign_prev, from prepare.sh), on 30,000 samples in /dev/shm: ROUNDS_1 rounds of one
# `compile -j 1` process at a time, interleaved (default 24), then ROUNDS_ALL rounds of one
# single-thread process per core at once, each on its own copy of the work (default 3). On a
# host whose single-core speed moves from run to run, the second is the steadier comparison.
# Each row has the run's wall, user and system seconds and the host's stolen time
# ($OUT/ab.jsonl); a summary per build follows.
set -u
python3 bench/gen_llava_mix.py --n 30000 --seed 1 --text .device/bench/pride.txt > /dev/shm/mix.json
python3 bench/device/ab_runs.py /dev/shm/mix.json ${ROUNDS_1:-24} ${ROUNDS_ALL:-3}
