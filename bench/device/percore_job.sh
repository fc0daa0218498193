#!/bin/bash
# On the device machine: the per-core comparison with the runs interleaved, so that a noisy
# host weighs on every row alike: tokalign compile -j 1 (whole process) and the HF tokenizers
# reference on one thread, three times each in turn, then LLaVA's own preprocess_v1 (slow
# tokenizer, as its train.py loads it) on one core, LLAVA_RUNS times (default 3), each
# followed by a tokalign run; then the
# same on every core (tokalign -j N, LLaVA in N processes, the reference on N threads).
# With .device/guard/tokalign_prev present (an earlier build, same libraries), every tokalign
# row is also run with it, next to the current one, so a change is measured in the same run;
# PREV_ARGS adds compile options to its runs only (with PREV the same binary: an option's
# cost, e.g. PREV_ARGS="--checksum sha256").
# Every tokalign row and every peer's has the host's stolen time over it (host_steal_s, from
# /proc/stat): the device is a KVM guest whose speed moves with its neighbours.
# PAIRS_ONLY=1: only the one-process LLaVA runs, each followed by TK_AFTER tokalign runs
# (default 2) of each build (see below), with a summary; with PIN=K, LLaVA's process and a
# tokalign process before each unpinned one run on CPU K alone ("one core each").
# With SLICES=S there, each LLaVA run is 1/S of the samples (per core at the mixture's size);
# with SIDE_BY_SIDE=M, tokalign runs on CPU M while LLaVA's runs on CPU K (the same minutes).
# ALLCORES_ONLY=1: the same on every core (LLaVA in one process per core; tokalign at each -j of ALLCORES_J, default "CORES 12"),
# with the output written to each folder of SHARDS (default /tmp/shard, the disk;
# /dev/shm/shard is memory): at N=665000, the mixture's size, LLaVA's processes take minutes
# and tokalign's output is 2 GB. With SLICES=S, LLaVA's run is cut into S slices interleaved
# with tokalign's rounds (below).
# Each tokalign run's previous output is deleted before it, outside its time.
# Expects what compile_job.sh expects.
set -u
source "$(dirname "$0")/env.sh"
N=${N:-30000}
CORES=$(nproc)
R=$OUT/percore.jsonl
python3 bench/gen_llava_mix.py --n $N --seed 1 --text .device/bench/pride.txt > /tmp/mix.json
tk1() {  # BINARY LABEL THREADS [OUTPUT_FOLDER]
  rm -rf "${4:-/tmp/shard}"
  BIN="$1" LABEL="$2" SHARD="${4:-/tmp/shard}" TK_PIN="${TK_PIN:-}" python3 - "${TK_DATA:-/tmp/mix.json}" "${TK_N:-$N}" $3 ${TK_ARGS:-} >> $R <<'PY'
import json, os, subprocess, sys, time
data, n, threads, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
g = ".device/guard"
out = os.environ["SHARD"]
cmd = [f"{g}/lib/ld-linux-x86-64.so.2", "--library-path", f"{g}/lib", os.environ["BIN"], "compile", "--data", data,
       "-t", os.environ["TOK"], "--template", "llava_v1", "--out", out, "--overwrite", "-j", threads] + extra
pin = os.environ.get("TK_PIN", "")
if pin:  # the whole process, its writer and hash threads too, on one CPU
    cmd = ["taskset", "-c", pin] + cmd
import resource
def steal():  # the host's stolen time over all of this machine's CPUs (/proc/stat), in seconds
    f = open("/proc/stat").readline().split()
    return int(f[8]) / os.sysconf("SC_CLK_TCK") if len(f) > 8 else 0.0
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
st0 = steal()
t = time.perf_counter()
p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
s = time.perf_counter() - t
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
# CPU time beside wall time: even -j 1 hashes and writes the shard on background threads.
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
where = ("" if out == "/tmp/shard" else f" to {out}") + (f" on one CPU (taskset -c {pin})" if pin else "")
print(json.dumps({"what": f"{os.environ['LABEL']} compile -j {threads} (whole process){where}", "samples": n,
                  "seconds": round(s, 3), "cpu_s": round(cpu, 3), "per_s": round(n / s, 1), "rc": p.returncode,
                  "host_steal_s": round(steal() - st0, 3)}))
PY
}
tk() {  # THREADS [OUTPUT_FOLDER]: the current build, then the previous one if carried
  tk1 .device/guard/tokalign tokalign "$1" "${2:-}"
  [ -x .device/guard/tokalign_prev ] && TK_ARGS="${PREV_ARGS:-}" tk1 .device/guard/tokalign_prev "tokalign (previous build)" "$1" "${2:-}"
  return 0
}
# The compile loop alone, in-process (bench/compile_engine.cc; its first pass, word tables
# cold, as in a fresh process): the like-for-like row for LLaVA's, whose time is its loop over
# samples already in memory (no JSON loading, no tokenizer loading, nothing written).
engine() {
  [ -x .device/guard/compile_engine ] || return 0
  local g=.device/guard
  local pin=() where=""
  [ -n "${PIN:-}" ] && pin=(taskset -c "$PIN") where=" on one CPU (taskset -c $PIN)"
  "${pin[@]}" $g/lib/ld-linux-x86-64.so.2 --library-path $g/lib $g/compile_engine $TOK /tmp/mix.json llava_v1 1 2>/dev/null |
    awk -v n=$N -v w="$where" 'NR == 2 {printf "{\"what\": \"tokalign compile loop, in-process, first pass%s\", \"samples\": %d, \"seconds\": %s}\n", w, n, $1}' >> $R
}
steal_s() { awk '/^cpu /{print $9}' /proc/stat; }
# A peer's row, followed by a row of the host's stolen time during it (a noisy host shows
# there: a KVM guest's /proc/stat counts the time the host ran something else).
peer() {
  local s0=$(steal_s)
  local pin=()
  [ -n "${PEER_PIN:-}" ] && pin=(taskset -c "$PEER_PIN")
  "${pin[@]}" python3 bench/device/llava_preprocess_bench.py --llava .device/llava --tokenizer $TOK \
    --data "${PEER_DATA:-/tmp/mix.json}" --n "${PEER_N:-$N}" "$@" 2>> $OUT/percore.err |
    if [ -n "${PEER_PIN:-}" ]; then sed "s/\"what\": \"\([^\"]*\)\"/\"what\": \"\1 on one CPU (taskset -c $PEER_PIN)\"/"; else cat; fi >> $R
  echo "{\"what\": \"host steal during the row above\", \"host_steal_s\": $(awk -v a=$s0 -v b=$(steal_s) -v hz=$(getconf CLK_TCK) 'BEGIN{printf "%.3f", (b - a) / hz}')}" >> $R
}
# With SLICES=S, LLaVA's runs take slices of the N samples (every S-th, from the k-th),
# written first to /tmp/mix.slice<k>.json for k < min(S, COUNT) (LLaVA's script would parse
# all N samples, 1.1 GB of JSON at the mixture's size, before each run): write_slices S COUNT.
write_slices() {
  python3 - /tmp/mix.json "$1" "$2" <<'PY'
import json, sys
data, s, count = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
for k in range(min(s, count)):
    json.dump(data[k::s], open(f"/tmp/mix.slice{k}.json", "w"))
PY
}
peer_on() {  # K S PEER_ARGS...: LLaVA over slice K of S (its file from write_slices), or all N when S is 1
  local k=$1 s=$2
  shift 2
  if [ "$s" -gt 1 ]; then PEER_DATA=/tmp/mix.slice$k.json PEER_N=$(((N - k + s - 1) / s)) peer "$@"; else peer "$@"; fi
}
tk 1  # warms the tokenizer cache; every row is kept
if [ -n "${PAIRS_ONLY:-}" ]; then
  # Only LLaVA's one process against -j 1: LLAVA_RUNS runs (default 4), each followed by two
  # tokalign runs of each build (more pairs in the same device time).
  # PIN=K: "one core each" as the issue words it: LLaVA's process and each tokalign process
  # (its reader, writer and hash threads too) on CPU K alone (taskset), each pinned tokalign
  # run followed by one unpinned, as before; the compile loop alone pinned as well.
  # SLICES=S: each LLaVA run is one slice of the N samples (run r takes every S-th sample
  # from the (r-1)-th), and tokalign's runs after it take all N: per core at the mixture's
  # size (N=665000), where one LLaVA process over all of it (25 minutes) does not fit a call.
  # LLaVA's time for all N is then the slice's x N / its samples; the compile loop alone is left out. The
  # slices are written to files of their own first (LLaVA's script would load all N samples,
  # 1.1 GB of JSON, before each run). UNPINNED=0 (with PIN): only the pinned tokalign runs.
  S=${SLICES:-1}
  runs=${LLAVA_RUNS:-4}
  [ "$S" -gt 1 ] && write_slices $S $runs
  # SIDE_BY_SIDE=M (with PIN=K): tokalign runs on CPU M, one after another, for as long as
  # each LLaVA run lasts on CPU K, instead of after it: both sides then see the same minutes
  # of a host whose speed moves from one minute to the next (the last tokalign run of a round
  # ends up to one run's time after LLaVA's). With SMALL="n ...", each such run over all N
  # samples is followed by one over the first n of them. The rounds' ratios are per sample.
  for m in ${SMALL:-}; do  # (gen_llava_mix.py's first n samples are the same for any --n)
    python3 bench/gen_llava_mix.py --n $m --seed 1 --text .device/bench/pride.txt > /tmp/mix$m.json
  done
  for r in $(seq $runs); do
    k=$(((r - 1) % S))
    if [ -n "${SIDE_BY_SIDE:-}" ]; then
      echo '{"what": "side by side: a round starts"}' >> $R
      PEER_PIN=${PIN:-} peer_on $k $S --llava-tokenizer slow --procs 1 &
      p=$!
      while kill -0 $p 2> /dev/null; do
        TK_PIN=$SIDE_BY_SIDE tk 1
        for m in ${SMALL:-}; do TK_DATA=/tmp/mix$m.json TK_N=$m TK_PIN=$SIDE_BY_SIDE tk 1; done
      done
      wait $p
      continue
    fi
    PEER_PIN=${PIN:-} peer_on $k $S --llava-tokenizer slow --procs 1
    for t in $(seq ${TK_AFTER:-2}); do
      [ -n "${PIN:-}" ] && TK_PIN=$PIN tk 1
      [ -n "${PIN:-}" ] && [ "${UNPINNED:-1}" = 0 ] || tk 1
      [ "$S" -gt 1 ] || engine
    done
  done
  cat $R
  if [ -n "${SIDE_BY_SIDE:-}" ]; then
    # Each LLaVA run against the tokalign runs of its round (the one that overlaps its end
    # included): per sample, LLaVA's time over tokalign's median at each size.
    python3 - $R <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rounds = []  # [LLaVA's seconds a sample, tokalign rows]
for r in rows:
    w = r.get("what", "")
    if w == "side by side: a round starts":
        rounds.append([None, []])
    elif not rounds:
        continue  # the run that warmed the tokenizer cache
    elif "llava-preprocess" in w and "seconds" in r:
        rounds[-1][0] = r["seconds"] / r["samples"]
    elif w.startswith("tokalign") and " compile -j 1" in w and "on one CPU" in w and "seconds" in r:
        rounds[-1][1].append(r)
rounds = [x for x in rounds if x[0] is not None]
print("LLaVA's process, per sample: " + ", ".join(f"{1000 * l:.3f} ms" for l, _ in rounds))
# Each build on its own line (the previous one's rows, where carried, alternate with the current one's).
builds = {"tokalign": lambda w: w.startswith("tokalign compile"),
          "tokalign (previous build)": lambda w: w.startswith("tokalign (previous build) compile")}
for name, is_build in builds.items():
    for size in sorted({r["samples"] for _, tk in rounds for r in tk if is_build(r["what"])}):
        per, tks = [], []
        for l, tk in rounds:
            t = [r["seconds"] / size for r in tk if r["samples"] == size and is_build(r["what"])]
            if t:
                per.append(l / statistics.median(t))
                tks += t
        print(f"{name} over {size} samples on another CPU at the same time: {len(tks)} runs, median "
              f"{1e6 * statistics.median(tks):.1f} us a sample; per round " + ", ".join(f"{x:.1f}x" for x in per) +
              f"; median of the rounds {statistics.median(per):.1f}x, "
              f"of the medians {statistics.median(l for l, _ in rounds) / statistics.median(tks):.1f}x")
PY
    exit 0
  fi
  # Per core: LLaVA's median against tokalign's median and mean (the device's -j 1 times are
  # bimodal from run to run; a 75-second LLaVA run averages over the host's moods, a
  # one-second tokalign run does not), and each LLaVA run against the mean of the runs after it.
  python3 - $R $S <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
slices = int(sys.argv[2])
n = next((r["samples"] for r in rows if r.get("what", "").startswith("tokalign compile -j 1")), 0)
llava, after, loops, cur = [], [], [], None
pinned_after, pinned_loops = [], []
pinned = any("on one CPU" in r.get("what", "") for r in rows)
for r in rows[1:]:  # the first tokalign row warmed the tokenizer cache
    w = r.get("what", "")
    if "preprocess" in w or "LLaVA" in w or "llava" in w:
        if "seconds" in r:  # with slices, LLaVA's time for all N samples: N / the slice's x its time
            llava.append(r["seconds"] * (n / r["samples"] if slices > 1 else 1))
            cur = []; after.append(cur); pinned_after.append([])
    elif w.startswith("tokalign compile -j 1") and cur is not None:
        (pinned_after[-1] if "on one CPU" in w else cur).append(r["seconds"])
    elif w.startswith("tokalign compile loop") and cur is not None:
        (pinned_loops if "on one CPU" in w else loops).append(r["seconds"])
tk = [s for a in after for s in a]
tkp = [s for a in pinned_after for s in a]
if slices > 1 and llava:
    print(f"LLaVA's runs are slices of 1/{slices} of the {n} samples, each scaled to all of them: " +
          ", ".join(f"{l:.1f} s ({1000 * l / n:.3f} ms a sample)" for l in llava))
if llava and tkp:
    lm, tm = statistics.median(llava), statistics.median(tkp)
    print(f"one core each (LLaVA's process and tokalign's whole process on one CPU, taskset): LLaVA median {lm:.2f} s; "
          f"tokalign -j 1 median {tm:.3f} s, mean {statistics.mean(tkp):.3f} s ({len(tkp)} runs): {lm / tm:.1f}x by the medians")
    print("  each LLaVA run over the mean of the pinned tokalign runs after it: " +
          ", ".join(f"{l / statistics.mean(a):.1f}x" for l, a in zip(llava, pinned_after) if a))
    if pinned_loops:
        print(f"  compile loop alone, pinned: median {statistics.median(pinned_loops):.3f} s: {lm / statistics.median(pinned_loops):.1f}x")
if llava and tk:
    if pinned:
        print("tokalign unpinned (its writer and hash threads free to use other cores), against the same pinned LLaVA runs:")
    lm, tm, ta = statistics.median(llava), statistics.median(tk), statistics.mean(tk)
    print(f"LLaVA one process: median {lm:.2f} s ({len(llava)} runs); tokalign -j 1: median {tm:.3f} s, mean {ta:.3f} s ({len(tk)} runs)")
    print(f"per core: {lm / tm:.1f}x by the medians, {lm / ta:.1f}x LLaVA's median over tokalign's mean")
    if loops:
        print(f"compile loop alone (in-process, first pass): median {statistics.median(loops):.3f} s ({len(loops)} runs): "
              f"{lm / statistics.median(loops):.1f}x LLaVA's loop")
    print("each LLaVA run over the mean of the tokalign runs after it: " +
          ", ".join(f"{l / statistics.mean(a):.1f}x" for l, a in zip(llava, after) if a))
PY
  exit 0
fi
if [ -n "${ALLCORES_ONLY:-}" ]; then
  # Only every core: LLaVA's preprocess_v1 in one process per core, LLAVA_RUNS times (default
  # 2), each followed by TK_AFTER (default 3) rounds of tokalign runs at each -j of ALLCORES_J
  # (default "CORES 12") into each folder of SHARDS; a summary.
  # SLICES=S: LLaVA's run is cut into S slices of the N samples (every S-th sample, from each
  # k < S), each slice's run followed by one round of tokalign runs over all N: a slow or fast
  # stretch of the host then weighs on both sides of a round alike (one LLaVA run lasts 1.5-2.5
  # minutes and a tokalign run 1.5 s; LLaVA's time for the same work moved 1.6x between calls).
  # Each round's ratio is the slice's time, scaled to N samples, over tokalign's.
  S=${SLICES:-1}
  [ "$S" -gt 1 ] && write_slices $S $S
  for r in $(seq ${LLAVA_RUNS:-2}); do
    for k in $(seq 0 $((S - 1))); do
      peer_on $k $S --llava-tokenizer slow --procs $CORES
      for t in $(seq ${TK_AFTER:-3}); do
        for d in ${SHARDS:-/tmp/shard}; do for j in ${ALLCORES_J:-$CORES 12}; do tk $j $d; done; done
      done
    done
  done
  cat $R
  python3 - $R $CORES $S $N <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])][1:]  # the first tokalign row warmed the tokenizer cache
cores, slices, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
is_llava = lambda r: "llava-preprocess" in r.get("what", "") and "seconds" in r
# LLaVA's time for all N samples: one run's, or a slice's scaled by N over its samples.
full = lambda r: r["seconds"] * (n / r["samples"] if slices > 1 else 1)
llava = [full(r) for r in rows if is_llava(r)]
if slices > 1 and llava:
    print(f"LLaVA {cores} processes, the slices summed: {sum(r['seconds'] for r in rows if is_llava(r)):.2f} s "
          f"for {len(llava) // slices} x all samples")
kinds = sorted({r["what"] for r in rows if r.get("what", "").startswith("tokalign")})
for k in kinds:
    tk = [r["seconds"] for r in rows if r["what"] == k]
    if llava and tk:
        lm, tm = statistics.median(llava), statistics.median(tk)
        runs = f"{len(llava)} slices, each scaled to all" if slices > 1 else f"{len(llava)} runs"
        print(f"LLaVA {cores} processes: median {lm:.2f} s ({runs}); {k}: median {tm:.3f} s "
              f"({len(tk)} runs): {lm / tm:.1f}x")
    if slices > 1:
        # Per round: the slice's time scaled to N over the median of the tokalign runs of this kind after it.
        ratios, cur = [], None
        for r in rows:
            if is_llava(r):
                cur = (full(r), [])
                ratios.append(cur)
            elif r.get("what") == k and cur:
                cur[1].append(r["seconds"])
        per = [l / statistics.median(t) for l, t in ratios if t]
        if per:
            print(f"  per round ({k}): " + ", ".join(f"{x:.1f}x" for x in per) +
                  f"; median {statistics.median(per):.1f}x")
PY
  exit 0
fi
for r in 1 2 3; do
  tk 1
  peer --hf-threads 1
done
tk 1
# LLaVA's one-process time moved from 61 to 88 s between runs of this job on one host:
# LLAVA_RUNS of them, each followed by tokalign's, give a ratio per pair and a median.
for r in $(seq ${LLAVA_RUNS:-3}); do
  peer --llava-tokenizer slow --procs 1
  tk 1
done
for r in 1 2 3; do
  tk $CORES
  peer --hf-threads $CORES
done
peer --llava-tokenizer slow --procs $CORES
tk $CORES
cat $R
