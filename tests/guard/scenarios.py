#!/usr/bin/env python3
"""`tokalign guard` around tests/guard/fake_trainer.py: each scenario injects one fault (or
none) and checks what the guard did, from its exit status, its incident log and the batches
the final run actually trained on (the fake trainer's result.json).

usage: scenarios.py --bin TOKALIGN --work DIR [NAME ...]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = [sys.executable, os.path.join(HERE, "fake_trainer.py")]


class Run:
    def __init__(self, work, name, guard_args, trainer_args, interrupt_after=None):
        self.dir = os.path.join(work, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        out = os.path.join(self.dir, "out")
        # A step takes 1 ms: a real trainer is never faster than the guard reads its log (a fake
        # one without a pause runs hundreds of steps ahead through the pipe's buffer).
        if "--sleep" not in trainer_args:
            trainer_args = trainer_args + ["--sleep", "0.001"]
        cmd = [BIN, "guard"] + guard_args + ["--"] + FAKE + ["--output_dir", out] + trainer_args
        self.cmd = cmd
        with open(os.path.join(self.dir, "stdout"), "wb") as so, open(os.path.join(self.dir, "stderr"), "wb") as se:
            p = subprocess.Popen(cmd, stdout=so, stderr=se, cwd=self.dir)
            if interrupt_after is not None:
                time.sleep(interrupt_after)
                p.send_signal(signal.SIGINT)
            self.rc = p.wait(timeout=300)
        self.stderr = open(os.path.join(self.dir, "stderr"), "rb").read().decode(errors="replace")
        log = os.path.join(out, "tokalign-guard-incidents.jsonl")
        self.events = [json.loads(l) for l in open(log)] if os.path.exists(log) else []
        res = os.path.join(out, "result.json")
        self.result = json.load(open(res)) if os.path.exists(res) else None
        self.out = out

    def kind(self, k):
        return [e for e in self.events if e["event"] == k]

    def rollbacks(self):
        return self.kind("rollback")

    def rules(self):
        return {e["rule"] for e in self.kind("anomaly")}

    def trained(self, lo, hi):
        return [b for b in self.result["batches"] if lo <= b <= hi]


def check(cond, what, run):
    if not cond:
        raise AssertionError(what + f"\n  command: {' '.join(run.cmd)}\n  rc={run.rc}\n  events:\n    " +
                             "\n    ".join(json.dumps(e) for e in run.events if e["event"] != "checkpoint_rejected") +
                             "\n  stderr tail:\n" + run.stderr[-3000:])


def finished_clean(r, steps=400):
    check(r.rc == 0, "the guarded run should finish with status 0", r)
    check(r.result is not None and r.result["steps"] == steps, "the trainer should reach its last step", r)
    check(r.result["final_loss"] == r.result["final_loss"] and r.result["final_loss"] < 2.5,
          "the final loss should be finite and back to normal", r)
    check(r.kind("exit") and r.kind("exit")[-1]["code"] == 0, "the log should end with exit 0", r)


def s_clean(work):
    r = Run(work, "clean", [], [])
    finished_clean(r)
    check(not r.rollbacks() and not r.kind("anomaly") and not r.kind("warning"),
          "a clean run must not be touched", r)
    check(len(r.result["batches"]) == 400, "every batch trained once", r)


def s_noisy(work):
    # Ordinary noise (15% per batch) and isolated hard batches (1.8x loss every 37th) over
    # three seeds: warnings at most, never a rollback.
    for seed in (1, 2, 3):
        r = Run(work, f"noisy{seed}", [], ["--noise", "0.15", "--hard-every", "37", "--seed", str(seed)])
        finished_clean(r)
        check(not r.rollbacks() and not r.kind("anomaly"), f"noise must not cause a rollback (seed {seed})", r)


def s_nan(work):
    r = Run(work, "nan", [], ["--nan-at", "130"])
    finished_clean(r)
    check(r.rules() == {"non_finite_loss"}, "the NaN should be the only rule", r)
    rb = r.rollbacks()
    check([x["action"] for x in rb] == ["replay", "skip"], "replay first, then skip", r)
    check(rb[0]["checkpoint_step"] == 100, "resume from checkpoint-100 (<= 130 - 20)", r)
    check(rb[1]["skip_from"] == 101 and rb[1]["skip_to"] == 180, "skip steps 101-180", r)
    check(r.trained(101, 180) == [], "the final run never trains on batches 101-180", r)


def s_transient(work):
    r = Run(work, "transient", [], ["--transient-nan-at", "130"])
    finished_clean(r)
    rb = r.rollbacks()
    check([x["action"] for x in rb] == ["replay"], "a transient NaN is replayed once, not skipped", r)
    check(r.trained(130, 130) == [130], "batch 130 is trained in the replay", r)


def s_masked(work):
    r = Run(work, "masked", [], ["--format", "hf-quoted", "--masked", "200-260"])
    finished_clean(r)
    check(r.rules() == {"all_masked"}, "all-masked batches are reported as such", r)
    check(r.trained(200, 260) == [], "no fully masked batch in the final run", r)
    check(len(r.rollbacks()) == 3, "replay, skip to 250, skip to 301", r)


def s_spike(work):
    r = Run(work, "spike", [], ["--spike-at", "180"])
    finished_clean(r)
    check(r.rules() <= {"loss_spike", "co_spike", "grad_spike"} and r.rules(), "a spike rule fired", r)
    check(r.trained(180, 180) == [], "the spiking batch is skipped in the end", r)
    check(all(e["onset_step"] >= 180 for e in r.kind("anomaly")), "onset at or after the spike", r)


def s_loss_spike(work):
    # A loss spike the grad norm does not show: the loss rule alone, after its patience.
    r = Run(work, "loss_spike", [], ["--spike-at", "180", "--spike-without-grad"])
    finished_clean(r)
    first = r.kind("anomaly")[0]
    check(first["rule"] == "loss_spike" and first["onset_step"] == 180 and first["step"] == 182,
          "loss_spike confirmed at 182 after 3 records, onset 180", r)
    check(r.trained(180, 180) == [], "the spiking batch is skipped in the end", r)


def s_divergence(work):
    r = Run(work, "divergence", ["--lr-factor", "0.5", "--lr-template", "--lr-scale {lr_factor}"],
            ["--diverge-from", "250"])
    finished_clean(r)
    check("divergence" in r.rules(), "divergence detected", r)
    check(r.result["lr_scale"] == 0.5, "the final run has the LR halved", r)
    check(r.rollbacks()[-1]["action"] == "skip" and r.rollbacks()[-1]["lr_factor"] == 0.5, "skip with LR x0.5", r)


def s_crash(work):
    r = Run(work, "crash", [], ["--crash-at", "170"])
    finished_clean(r)
    check(len(r.kind("crash")) == 1 and r.kind("crash")[0]["code"] == 1, "the crash is logged with its status", r)
    rb = r.rollbacks()
    check(len(rb) == 1 and rb[0]["incident"] == "crash" and rb[0]["checkpoint_step"] == 150,
          "resume from the newest checkpoint", r)


def s_truncated(work):
    r = Run(work, "truncated", [], ["--truncate-checkpoint-at", "150", "--crash-at", "170"])
    finished_clean(r)
    rej = [e for e in r.kind("checkpoint_rejected") if e["checkpoint"].endswith("checkpoint-150")]
    check(rej and "not valid JSON" in rej[0]["reason"], "the truncated checkpoint is rejected", r)
    check(r.rollbacks()[0]["checkpoint_step"] == 100, "resume from the older good checkpoint", r)


def s_give_up(work):
    # Every batch from 130 on is poison: the guard must stop trying, with its own status.
    r = Run(work, "give_up", [], ["--nan-from", "130"])
    check(r.rc == 4, "give up with status 4", r)
    check(len(r.kind("give_up")) == 1, "one give_up event", r)
    check(len(r.rollbacks()) == 3, "three rollbacks without progress, then stop", r)


def s_megatron(work):
    r = Run(work, "megatron", ["--checkpoint-pattern", "iter_{step}", "--resume-template", "--load {checkpoint}",
                               "--skip-template", "--skip-steps {skip_from}-{skip_to}"],
            ["--format", "megatron", "--nan-at", "130"])
    finished_clean(r)
    check(r.rules() == {"loss_missing"}, "Megatron drops the loss on NaN: loss_missing", r)
    check(r.trained(101, 180) == [], "the generic skip template skips steps 101-180", r)
    check("--skip-steps 101-180" in r.kind("start")[-1]["command"], "the restart command has the skip", r)


def s_json(work):
    r = Run(work, "json", [], ["--format", "json", "--logging_steps", "5", "--masked", "121-125"])
    finished_clean(r)
    check(r.rules() == {"all_masked"} and r.kind("anomaly")[0]["step"] == 125, "all-masked logged at step 125", r)
    check(r.trained(121, 125) == [], "the masked batches are skipped", r)


def s_rotation(work):
    # save_total_limit 1: the checkpoint the guard resumed from is deleted by the trainer's
    # rotation, and the second incident needs it again.
    r = Run(work, "rotation", [], ["--save_total_limit", "1", "--nan-at", "130", "--masked", "205-215"])
    finished_clean(r)
    last = r.rollbacks()[-1]
    check("/.tokalign-guard/checkpoint-100" in last["checkpoint"], "the protected copy is used", r)
    check(r.trained(130, 130) == [] and r.trained(205, 215) == [], "both bad stretches skipped", r)


def s_in_place(work):
    # A trainer that resumes from the newest checkpoint-N of its folder by itself (LLaVA's
    # train.py), with rotation: --resume-in-place makes the right checkpoint the newest.
    r = Run(work, "in_place", ["--resume-in-place"],
            ["--auto-resume", "--save_total_limit", "2", "--masked", "200-230"])
    finished_clean(r)
    check(all("--resume_from_checkpoint" not in e["command"] for e in r.kind("start")), "no resume arguments", r)
    check([x["action"] for x in r.rollbacks()] == ["replay", "skip"], "replay, then skip", r)
    check(r.rollbacks()[1]["resume_from"].endswith("/out/checkpoint-250"), "the skip copy is the newest checkpoint", r)
    check(r.trained(200, 230) == [] and r.trained(151, 250) == [], "steps 151-250 skipped", r)


def s_stop(work):
    r = Run(work, "stop", ["--on-anomaly", "stop"], ["--nan-at", "130"])
    check(r.rc == 4 and len(r.kind("start")) == 1 and not r.rollbacks(), "stop at the anomaly, no restart", r)


def s_warn(work):
    r = Run(work, "warn", ["--on-anomaly", "warn"], ["--transient-nan-at", "130"])
    check(r.rc == 0 and len(r.kind("start")) == 1 and r.kind("anomaly"), "warn only: logged, not acted on", r)
    check(r.kind("anomaly")[0]["action"] == "warn", "the anomaly's action is warn", r)


def s_interrupt(work):
    r = Run(work, "interrupt", [], ["--sleep", "0.01"], interrupt_after=1.5)
    check(r.rc in (130, 1) and len(r.kind("start")) == 1, "Ctrl-C reaches the trainer and nothing restarts", r)
    check(r.kind("exit") and "interrupted" in r.kind("exit")[-1]["how"], "the exit event says interrupted", r)


def s_errors(work):
    def run(args):
        p = subprocess.run([BIN, "guard"] + args, capture_output=True, text=True, cwd=work)
        return p.returncode, p.stderr
    rc, err = run(["--", "/nonexistent/train"])
    assert rc == 3 and "cannot run '/nonexistent/train'" in err, (rc, err)
    rc, err = run([])
    assert rc == 2, (rc, err)
    rc, err = run(["--resume-template", "--resume {ckpt}", "--", "true"])
    assert rc == 2 and "unknown placeholder" in err, (rc, err)
    rc, err = run(["--metric-regex", "loss=([0-9.]+)", "--", "true"])
    assert rc == 2 and "names no metric" in err, (rc, err)
    rc, err = run(["--checkpoint-pattern", "ckpt", "--", "true"])
    assert rc == 2 and "{step}" in err, (rc, err)
    # The trainer's own status when it fails without checkpoints and crash restarts are off.
    rc, err = run(["--no-restart-on-crash", "--incident-log", os.path.join(work, "e.jsonl"), "--", "sh", "-c", "exit 7"])
    assert rc == 7, (rc, err)


SCENARIOS = {k[2:]: v for k, v in globals().items() if k.startswith("s_")}


def main():
    global BIN
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    BIN = os.path.abspath(a.bin)
    os.makedirs(a.work, exist_ok=True)
    names = a.names or list(SCENARIOS)
    failed = []
    for n in names:
        t = time.time()
        try:
            SCENARIOS[n](a.work)
            print(f"ok   {n} ({time.time() - t:.1f} s)", flush=True)
        except AssertionError as e:
            print(f"FAIL {n}: {e}", flush=True)
            failed.append(n)
    print(f"{len(names) - len(failed)}/{len(names)} scenarios passed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
