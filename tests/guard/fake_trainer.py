#!/usr/bin/env python3
"""A fake trainer for testing `tokalign guard`: no model, but the behaviour the guard sees.

It logs like HF Trainer (old float dicts or newer quoted .4g dicts, with a tqdm-style bar on
stderr), as JSON lines, or as Megatron iteration lines; writes HF-layout checkpoints
(checkpoint-N/ with trainer_state.json, rotated by --save_total_limit) or Megatron-style
iter_NNNNNNN/ folders; resumes from one as HF does (global_step batches are skipped).

The loss of step s is a deterministic function of the data batch it trains on (batch s),
the "parameter state" carried in checkpoints, and seeded noise, so a replay from a
checkpoint sees the same losses. Faults are injected at chosen batches or steps:
  --nan-at B          batch B makes the parameters NaN (every later loss NaN); recurs on replay
  --nan-from B        every batch from B on is poison (a run that cannot be saved)
  --transient-nan-at S  step S's loss is NaN once (a marker file keeps it from recurring)
  --masked A-B        batches A..B have every label masked: loss 0.0, grad norm NaN
  --spike-at B        batch B damages the parameters: the loss jumps by 3 nats and decays
  --diverge-from S    from step S the loss creeps up 0.01/step unless --lr-scale < 1
  --hard-every N      every Nth batch is hard: its own loss x1.8 (ordinary noise, no damage)
  --crash-at S        exit 1 at step S, once
  --truncate-checkpoint-at S  checkpoint S is written with a truncated trainer_state.json, once
At the end it writes OUTPUT_DIR/result.json: the batches the final lineage trained on, the
last loss and the LR scale.
"""
import argparse
import json
import math
import os
import random
import shutil
import sys
import time


def parse_range(s):
    a, b = s.split("-")
    return int(a), int(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--output_dir", required=True)
    ap.add_argument("--max_steps", type=int, default=400)
    ap.add_argument("--save_steps", type=int, default=50)
    ap.add_argument("--logging_steps", type=int, default=1)
    ap.add_argument("--save_total_limit", type=int, default=0)
    ap.add_argument("--resume_from_checkpoint")
    ap.add_argument("--load", help="Megatron-style resume")
    ap.add_argument("--auto-resume", action="store_true",
                    help="as LLaVA's train.py: resume from the newest checkpoint-N of output_dir if there is one")
    ap.add_argument("--format", choices=["hf", "hf-quoted", "json", "megatron"], default="hf")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--noise", type=float, default=0.03)
    ap.add_argument("--sleep", type=float, default=0.0)
    ap.add_argument("--skip-steps", help="A-B: train no batch at steps A..B (generic skip)")
    ap.add_argument("--lr-scale", type=float, default=1.0)
    ap.add_argument("--nan-at", type=int)
    ap.add_argument("--nan-from", type=int)
    ap.add_argument("--transient-nan-at", type=int)
    ap.add_argument("--masked")
    ap.add_argument("--spike-at", type=int)
    ap.add_argument("--spike-without-grad", action="store_true", help="the spike leaves the grad norm alone")
    ap.add_argument("--diverge-from", type=int)
    ap.add_argument("--hard-every", type=int)
    ap.add_argument("--crash-at", type=int)
    ap.add_argument("--truncate-checkpoint-at", type=int)
    a = ap.parse_args()
    os.makedirs(a.output_dir, exist_ok=True)
    megatron = a.format == "megatron"

    state = {"nan": False, "spike_at": None, "diverge": 0.0}
    history, batches, step = [], [], 0
    resume = a.resume_from_checkpoint or a.load
    if a.auto_resume and not resume:
        # transformers' get_last_checkpoint: the highest checkpoint-N folder.
        found = [(int(n.split("-")[1]), n) for n in os.listdir(a.output_dir)
                 if n.startswith("checkpoint-") and n.split("-")[1].isdigit()
                 and os.path.isdir(os.path.join(a.output_dir, n))]
        if found:
            resume = os.path.join(a.output_dir, max(found)[1])
    if resume:
        ts = json.load(open(os.path.join(resume, "trainer_state.json")))
        step = ts["global_step"]  # HF: skips global_step batches of the data
        history = ts["log_history"]
        model = json.load(open(os.path.join(resume, "model.json")))
        state, batches = model["state"], model["batches"]
        print(f"Resuming from {resume} at step {step}", file=sys.stderr, flush=True)
    masked = parse_range(a.masked) if a.masked else None
    skip = parse_range(a.skip_steps) if a.skip_steps else None

    def marker(name):
        p = os.path.join(a.output_dir, ".fake-" + name)
        if os.path.exists(p):
            return False
        open(p, "w").close()
        return True

    def save(s):
        d = os.path.join(a.output_dir, ("iter_%07d" if megatron else "checkpoint-%d") % s)
        os.makedirs(d, exist_ok=True)
        json.dump({"state": state, "batches": batches}, open(os.path.join(d, "model.json"), "w"))
        with open(os.path.join(d, "optimizer.pt"), "wb") as f:
            f.write(b"\0" * 64)
        text = json.dumps({"global_step": s, "max_steps": a.max_steps, "logging_steps": a.logging_steps,
                           "save_steps": a.save_steps, "log_history": history}, indent=2)
        if a.truncate_checkpoint_at == s and marker("truncated-%d" % s):
            text = text[: len(text) // 2]
        open(os.path.join(d, "trainer_state.json"), "w").write(text)
        if a.save_total_limit > 0 and not megatron:
            names = sorted((int(n.split("-")[1]), n) for n in os.listdir(a.output_dir)
                           if n.startswith("checkpoint-") and n.split("-")[1].isdigit())
            for _, n in names[: max(0, len(names) - a.save_total_limit)]:
                shutil.rmtree(os.path.join(a.output_dir, n))

    window, loss = [], float("nan")
    while step < a.max_steps:
        step += 1
        if a.sleep:
            time.sleep(a.sleep)
        if a.crash_at == step and marker("crashed-%d" % step):
            print("Traceback (most recent call last):\nRuntimeError: CUDA error: an illegal memory access",
                  file=sys.stderr, flush=True)
            sys.exit(1)
        if skip and skip[0] <= step <= skip[1]:
            continue  # a dummy step: no data, no update
        b = step  # the data batch of this step
        batches.append(b)
        rng = random.Random(a.seed * 1000003 + b)
        if a.nan_at == b or (a.nan_from is not None and b >= a.nan_from):
            state["nan"] = True
        if a.spike_at == b:
            state["spike_at"] = b
        if a.diverge_from is not None and step >= a.diverge_from and a.lr_scale >= 1.0:
            state["diverge"] += 0.01
        grad = (0.8 + 0.4 * math.exp(-step / 60)) * math.exp(rng.gauss(0, a.noise))
        loss = (1.8 + 2.5 * math.exp(-step / 60)) * math.exp(rng.gauss(0, a.noise))
        if a.hard_every and b % a.hard_every == 0:
            loss *= 1.8
        spike = 3.0 * math.exp(-(step - state["spike_at"]) / 100) if state["spike_at"] is not None else 0.0
        loss += spike + state["diverge"]
        if not a.spike_without_grad:
            grad *= 1 + 3 * spike
        if state["nan"] or (a.transient_nan_at == step and marker("transient-%d" % step)):
            loss, grad = float("nan"), float("nan")
        if masked and masked[0] <= b <= masked[1]:
            loss, grad = 0.0, float("nan")
        window.append(loss)
        lr = 5e-5 * a.lr_scale * (1 - step / a.max_steps)
        if step % a.logging_steps == 0:
            avg = sum(window) / len(window)
            window = []
            history.append({"loss": round(avg, 4), "grad_norm": grad, "learning_rate": lr,
                            "epoch": step / 100, "step": step})
            if a.format == "hf":
                print({"loss": round(avg, 4), "grad_norm": grad, "learning_rate": lr, "epoch": round(step / 100, 2)},
                      flush=True)
            elif a.format == "hf-quoted":
                print({"loss": f"{avg:.4g}", "grad_norm": f"{grad:.4g}", "learning_rate": f"{lr:.4g}",
                       "epoch": f"{step / 100:.4g}"}, flush=True)
            elif a.format == "json":
                print(json.dumps({"step": step, "loss": avg, "grad_norm": grad, "lr": lr}), flush=True)
            else:
                nan = 1 if math.isnan(avg) else 0
                fields = [f"consumed samples: {step * 32}", f"learning rate: {lr:.6E}", "global batch size: 32"]
                if not nan:
                    fields.append(f"lm loss: {avg:.6E}")
                fields += ["loss scale: 1.0", f"grad norm: {grad:.3f}", "number of skipped iterations: 0",
                           f"number of nan iterations: {nan}"]
                print(f" [2026-11-28 10:00:00] iteration {step:8d}/{a.max_steps:8d} | " + " | ".join(fields) + " |",
                      flush=True)
        sys.stderr.write(f"\r{100 * step // a.max_steps:3d}%|{'#' * (step * 10 // a.max_steps):10s}| {step}/{a.max_steps}")
        sys.stderr.flush()
        if step % a.save_steps == 0:
            save(step)
    sys.stderr.write("\n")
    print({"train_runtime": 1.0, "train_loss": loss, "epoch": a.max_steps / 100}, flush=True)
    json.dump({"steps": step, "batches": batches, "final_loss": loss, "lr_scale": a.lr_scale},
              open(os.path.join(a.output_dir, "result.json"), "w"))


if __name__ == "__main__":
    main()
