#!/bin/bash
# tokalign guard over real Hugging Face Trainer output (transformers 5.17, captured on the
# device machine by tests/guard/device/hf_job.sh): the clean run is left alone, the run with
# fully masked batches at steps 41-50 is caught at the right step, logged every step or
# every 5 steps (HF averages, and prints no step numbers).
# usage: hf_logs.sh TOKALIGN WORKDIR
set -euo pipefail
BIN=$1; WORK=$2
HERE=$(cd "$(dirname "$0")" && pwd)
L=$HERE/hf_logs
rm -rf "$WORK"; mkdir -p "$WORK"
fail() { echo "FAIL: $*"; exit 1; }
events() { python3 -c "
import json, sys
ev = [json.loads(l) for l in open('$1')]
print(' '.join('%s:%s:%s' % (e['event'], e.get('step', ''), e.get('rule', '')) for e in ev if e['event'] in ('anomaly', 'warning')))"; }

# Clean: stdout (the log dicts) and stderr (tqdm's bars, redrawn with \r) together.
"$BIN" guard --on-anomaly warn --incident-log "$WORK/clean.jsonl" -- \
  sh -c "cat '$L/clean_steps1.stderr' >&2; cat '$L/clean_steps1.log'" > "$WORK/clean.out" 2> "$WORK/clean.err" \
  || fail "clean run: exit $?"
cmp -s "$WORK/clean.out" "$L/clean_steps1.log" || fail "stdout is not passed through unchanged"
# The guard's own messages may land anywhere in its stderr: the trainer's stdout and stderr are
# two pipes, and a notice about a stdout line can be written before all of stderr was read.
# With those messages taken out (and the newline the guard puts before one that would start
# mid-line), what is left must be the trainer's stderr, byte for byte.
python3 - "$WORK/clean.err" "$L/clean_steps1.stderr" <<'PY' || fail "stderr is not passed through unchanged"
import functools, re, sys
got, want = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
# Where a message line (and a summary's indented lines) of the guard could start, and end.
ends = {m.start(): m.end() for m in re.finditer(rb"tokalign guard: [^\n]*\n(?:  [^\n]*\n)*", got)}
@functools.lru_cache(maxsize=None)
def same(i, j):  # got[i:] is want[j:] with guard messages put in
    while True:
        if i in ends:  # a message here: the trainer's bytes go on after it, or the newline
            # just matched was the one the guard puts before a message that would start mid-line
            if same(ends[i], j) or (i and j and got[i - 1] == 10 and want[j - 1] == 10 and same(ends[i], j - 1)):
                return True
        if i + 1 in ends and got[i] == 10 and same(ends[i + 1], j):  # that newline, unmatched
            return True
        if i < len(got) and j < len(want) and got[i] == want[j]:
            i, j = i + 1, j + 1
            continue
        return i == len(got) and j == len(want)
sys.exit(0 if same(0, 0) else 1)
PY
got=$(events "$WORK/clean.jsonl"); [ -z "$got" ] || fail "clean run flagged: $got"
grep -q '"how":"the trainer finished at step 120"' "$WORK/clean.jsonl" || fail "clean run: 120 steps not counted"

# Masked, logging every step: all_masked at step 41 (loss 'nan', grad_norm '0').
"$BIN" guard --on-anomaly warn --incident-log "$WORK/m1.jsonl" -- cat "$L/masked_41_50_steps1.log" > /dev/null 2>&1
got=$(events "$WORK/m1.jsonl"); [ "$got" = "anomaly:41:all_masked" ] || fail "masked, steps 1: got '$got'"

# Masked, logging every 5 steps: the record of step 45 averages 41-45.
"$BIN" guard --on-anomaly warn --logging-steps 5 --incident-log "$WORK/m5.jsonl" -- cat "$L/masked_41_50_steps5.log" > /dev/null 2>&1
got=$(events "$WORK/m5.jsonl"); [ "$got" = "anomaly:45:all_masked" ] || fail "masked, steps 5: got '$got'"

# --on-anomaly stop: the guard's own exit status.
set +e
"$BIN" guard --on-anomaly stop --quiet --incident-log "$WORK/stop.jsonl" -- cat "$L/masked_41_50_steps1.log" > /dev/null 2>&1
rc=$?
set -e
[ $rc = 4 ] || fail "--on-anomaly stop: exit $rc, expected 4"
echo "ok: real HF Trainer logs (clean: nothing; masked: step 41 / step 45 all_masked; stop: exit 4)"
