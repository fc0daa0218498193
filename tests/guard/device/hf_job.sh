#!/bin/bash
# On the device machine: tokalign guard around a real HF Trainer run (hf_masked_run.py).
# Expects .device/guard/{tokalign,lib/} (the binary and its Debian libraries, run through
# the carried loader so the host's glibc does not matter). Results under $OUT.
set -u
G=.device/guard
TOKALIGN="$G/lib/ld-linux-x86-64.so.2 --library-path $G/lib $G/tokalign"
python3 -c "import torch, transformers, accelerate; print('torch', torch.__version__, 'transformers', transformers.__version__, 'accelerate', accelerate.__version__, 'cuda', torch.cuda.is_available())" > $OUT/versions.txt 2>&1
cat $OUT/versions.txt
$TOKALIGN guard --help > $OUT/help.txt 2>&1 || { echo "tokalign does not run here"; cat $OUT/help.txt; exit 1; }
run() {  # NAME GUARD_ARGS... -- TRAINER_ARGS...
  name=$1; shift
  rm -rf /tmp/$name
  timeout 400 $TOKALIGN guard "$@" > $OUT/$name.stdout 2> $OUT/$name.stderr
  echo "$name: guard exit $?" | tee -a $OUT/summary.txt
  cp /tmp/$name/tokalign-guard-incidents.jsonl $OUT/$name.incidents.jsonl 2>/dev/null
  ls -R /tmp/$name > $OUT/$name.tree.txt 2>&1
  last=$(ls -d /tmp/$name/checkpoint-* 2>/dev/null | sort -t- -k2 -n | tail -1)
  [ -n "$last" ] && cp $last/trainer_state.json $OUT/$name.final_trainer_state.json
}
# Clean control: the same run without masked batches must not be touched.
run clean -- python3 tests/guard/device/hf_masked_run.py --output_dir /tmp/clean --logging_steps 1 --save_steps 10
# Batches of steps 41-50 fully masked.
run masked --skip-margin 10 -- python3 tests/guard/device/hf_masked_run.py --output_dir /tmp/masked --masked 41-50 --logging_steps 1 --save_steps 10
# HF averages the loss over logging_steps and the log has no step numbers: counted steps.
run masked_log5 --skip-margin 10 -- python3 tests/guard/device/hf_masked_run.py --output_dir /tmp/masked_log5 --masked 41-50 --logging_steps 5 --save_steps 10
# As LLaVA's train.py resumes (the newest checkpoint-* of output_dir): --resume-in-place.
run llava_style --resume-in-place --skip-margin 10 -- python3 tests/guard/device/hf_masked_run.py --output_dir /tmp/llava_style --masked 41-50 --llava-resume --logging_steps 1 --save_steps 10
# The run's files come back as one archive (the device returns a limited number of files).
tar czf /tmp/hf_guard_results.tgz -C $OUT . && find $OUT -type f -delete && mv /tmp/hf_guard_results.tgz $OUT/
