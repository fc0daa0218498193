"""tokalign inside a Hugging Face Trainer.

    from tokalign.hf import GuardCallback
    trainer = Trainer(..., train_dataset=ShardDataset("shard/"), callbacks=[GuardCallback()])

GuardCallback does two things:
- at on_train_begin, a pre-flight check of the training dataset: every sample (up to
  `preflight_limit`; a ShardDataset whole, through tokalign.stats) must have at least one
  trained label (not -100); more than
  `max_zero_trained` such samples and training is refused with an error naming them (the
  silent failure LLaVA's tokenization mismatch produces: loss 0 on masked samples);
- at every on_log, the logged loss / grad_norm / eval_loss go to the guard's detectors (the
  same C++ rules as `tokalign guard`, docs/guard.md). On an anomaly that warrants a rollback
  (NaN loss, all labels masked, a loss or gradient spike, divergence) it stops training
  (control.should_training_stop) with a clear message, and appends an incident record to
  `<output_dir>/tokalign-incidents.jsonl` ("rollback_requested": true when asked to, for the
  supervisor `tokalign guard` or a script to roll back to the last good checkpoint).
"""
import json
import math
import os
import sys
import time

from . import IGNORE_INDEX, stats
from ._native import Detector

try:
    from transformers import TrainerCallback
except ImportError:  # usable (and testable) without transformers: the Trainer only calls the hooks
    TrainerCallback = object

__all__ = ["GuardCallback", "TrainingRefused"]


class TrainingRefused(RuntimeError):
    """The pre-flight check found samples that would train on nothing."""


def _number(v):
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


class GuardCallback(TrainerCallback):
    def __init__(self, max_zero_trained=0, preflight_limit=None, request_rollback=False, incident_path=None,
                 log=sys.stderr, **detector_config):
        self.max_zero_trained = max_zero_trained
        self.preflight_limit = preflight_limit
        self.request_rollback = request_rollback
        self.incident_path = incident_path
        self.log = log
        self.detector = Detector(**detector_config)
        self.findings = []   # every finding, warnings included
        self.stopped_by = None

    # -- pre-flight ---------------------------------------------------------------------
    def preflight(self, dataset):
        """Counts samples whose labels are all IGNORE_INDEX; raises TrainingRefused above
        max_zero_trained. A tokalign.torch.ShardDataset is checked whole by the native stats
        (tokalign.stats, the `stats` command's counts); any other map-style dataset item by item
        (up to preflight_limit). Returns (checked, zero_trained ids)."""
        n = len(dataset)
        limit = n if self.preflight_limit is None else min(n, self.preflight_limit)
        shard = getattr(dataset, "shard_path", None)
        if shard is not None and limit == n:
            report = stats(shard=shard)
            _, zero_n = report.holds("zero-trained>0")
            print(f"tokalign: pre-flight (stats of {shard}): {report['samples_out']} samples, {report['tokens']} tokens, "
                  f"{report['trained_tokens']} trained ({report['trained_fraction']:.1%}), "
                  f"{int(zero_n)} with no trained token", file=self.log)
            if zero_n <= self.max_zero_trained:
                return n, []
        zero = []
        for i in range(limit):
            item = dataset[i]
            labels = item["labels"] if isinstance(item, dict) else item[1]
            trained = sum(1 for x in (labels.tolist() if hasattr(labels, "tolist") else labels) if x != IGNORE_INDEX)
            if trained == 0:
                zero.append(item.get("id", i) if isinstance(item, dict) else i)
        if len(zero) > self.max_zero_trained:
            shown = ", ".join(map(str, zero[:10])) + (" ..." if len(zero) > 10 else "")
            raise TrainingRefused(f"tokalign: {len(zero)} of {limit} training samples have no trained token "
                                  f"(every label is {IGNORE_INDEX}): {shown}. Training on them gives loss 0 and "
                                  f"teaches nothing; fix the data (tokalign compile quarantines such samples) "
                                  f"or raise max_zero_trained.")
        return limit, zero

    def on_train_begin(self, args, state, control, **kwargs):
        loader = kwargs.get("train_dataloader")
        dataset = getattr(loader, "dataset", None)
        if dataset is not None and hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__"):
            checked, zero = self.preflight(dataset)
            print(f"tokalign: pre-flight: {checked} samples checked, {len(zero)} with no trained token", file=self.log)
        return control

    # -- during training -------------------------------------------------------------------
    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        step = int(getattr(state, "global_step", 0))
        found = self.detector.observe(step, loss=_number(logs.get("loss")), grad_norm=_number(logs.get("grad_norm")),
                                      learning_rate=_number(logs.get("learning_rate")), epoch=_number(logs.get("epoch")),
                                      eval_loss=_number(logs.get("eval_loss")))
        for f in found:
            self.findings.append(f)
            kind = "ANOMALY" if f["act"] else "warning"
            print(f"tokalign guard: {kind} at step {f['step']}: {f['rule']} ({f['detail']})", file=self.log)
            if f["act"] and self.stopped_by is None:
                self.stopped_by = f
                self._write_incident(args, state, f, logs)
                control.should_training_stop = True
                print(f"tokalign guard: stopping training at step {step}: {f['rule']} since step {f['onset_step']}"
                      + ("; rollback requested" if self.request_rollback else ""), file=self.log)
        return control

    def _write_incident(self, args, state, finding, logs):
        path = self.incident_path or os.path.join(getattr(args, "output_dir", ".") or ".", "tokalign-incidents.jsonl")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "source": "tokalign.hf.GuardCallback",
            "rule": finding["rule"], "metric": finding["metric"],
            "value": finding["value"] if math.isfinite(finding["value"]) else str(finding["value"]),
            "step": finding["step"], "onset_step": finding["onset_step"], "detail": finding["detail"],
            "logs": {k: (v if not isinstance(v, float) or math.isfinite(v) else str(v)) for k, v in logs.items()},
            "best_checkpoint": getattr(state, "best_model_checkpoint", None),
            "rollback_requested": bool(self.request_rollback),
            "action": "training stopped (control.should_training_stop)",
        }
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
