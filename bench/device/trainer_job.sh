#!/usr/bin/env bash
# On the device machine (issue 10): a real Hugging Face Trainer fed by tokalign.torch and
# guarded by tokalign.hf.GuardCallback, against the same run fed by LLaVA's own preprocess
# (bench/device/trainer_run.py). Prepare first with bench/device/trainer_prepare.sh; run with
# carry: .device/trainer .device/tok/tinyllama .device/llava. Results under $OUT.
set -uo pipefail
T=.device/trainer
export PYTHONPATH=$PWD/$T LD_LIBRARY_PATH=$PWD/$T/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
python3 -c 'import tokalign, sys; print("tokalign imports:", tokalign._native.__file__, sys.version.split()[0])' || exit 1
python3 bench/device/trainer_run.py --shard $T/shard --data $T/mix3000.json --tokenizer .device/tok/tinyllama \
  --llava .device/llava --out /tmp/trainer --steps "${STEPS:-200}" 2>&1 | tee "$OUT/trainer_log.txt" | grep -v "^{'" | tail -60
cp /tmp/trainer/trainer_summary.json "$OUT/" 2>/dev/null
for r in tokalign llava llava-no-preflight; do
  [ -f /tmp/trainer/$r/tokalign-incidents.jsonl ] && cp /tmp/trainer/$r/tokalign-incidents.jsonl "$OUT/incidents-$r.jsonl"
done
exit 0
