#!/usr/bin/env python3
"""A real Hugging Face Trainer fed by tokalign (issue 10), on the device machine: a tiny random
Llama (transformers' LlamaForCausalLM, TinyLlama's 32000-token vocabulary) trained on a
LLaVA-mix dataset, three ways, in one process:

  tokalign   tokalign.torch.ShardDataset over the shard `tokalign compile` wrote for the
             TinyLlama tokenizer and llava_v1, tokalign's Collator (the tokenizer's own pad id),
             tokalign.hf.GuardCallback. Expected: the loss falls and no anomaly is reported.
  llava      the same samples through LLaVA's own preprocess (preprocess_v1 from a LLaVA
             checkout, executed unchanged by tests/compile/device/llava_oracle.py) with the same
             tokenizer as transformers 5 loads it: LLaVA's tokenization mismatch masks most
             samples. GuardCallback's pre-flight must refuse to train (TrainingRefused, step 0).
  llava-no-preflight
             the same LLaVA data with the pre-flight switched off (max_zero_trained = all): the
             guard's detectors must stop training at the first fully masked step.
  llava-unguarded
             the same LLaVA data with no callback, for comparison: how many of its steps train
             on nothing.

Input images are LLaVA's -200 placeholders; a text-only Llama has no vision tower, so they
become the unk id (their labels are -100 either way). Writes OUT/trainer_summary.json and each
run's logged records; prints a readable log.

usage: trainer_run.py --shard DIR --data FILE --tokenizer DIR --llava DIR --out DIR [--steps N]
"""
import argparse
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "compile", "device"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shard", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--llava", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=200)
    a = ap.parse_args()

    import torch
    import transformers
    from transformers import LlamaConfig, LlamaForCausalLM, Trainer, TrainerCallback, TrainingArguments

    import tokalign
    from tokalign.hf import GuardCallback, TrainingRefused
    from tokalign.torch import Collator, ShardDataset

    tok = tokalign.Tokenizer(a.tokenizer)
    unk = tok.token_to_id("<unk>")
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, cuda {torch.cuda.is_available()}; "
          f"tokalign module {tokalign._native.__file__}", flush=True)

    class Recorder(TrainerCallback):
        def __init__(self):
            self.logs = []

        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                self.logs.append({"step": state.global_step, "loss": logs["loss"], "grad_norm": logs.get("grad_norm")})

    class NoVisionCollator(Collator):
        def __call__(self, items):
            b = super().__call__(items)
            b["input_ids"][b["input_ids"] < 0] = unk  # image placeholders: no vision tower here
            return b

    def train(name, dataset, callbacks):
        torch.manual_seed(0)
        cfg = LlamaConfig(vocab_size=32000, hidden_size=256, intermediate_size=688, num_hidden_layers=4,
                          num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=4096)
        model = LlamaForCausalLM(cfg)
        rec = Recorder()
        args = TrainingArguments(output_dir=os.path.join(a.out, name), max_steps=a.steps, per_device_train_batch_size=8,
                                 learning_rate=1e-3, warmup_steps=10, lr_scheduler_type="cosine", logging_steps=1,
                                 save_strategy="no", report_to=[], remove_unused_columns=False, seed=0,
                                 dataloader_num_workers=2, disable_tqdm=True)
        trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=NoVisionCollator(tok.pad_token_id),
                          callbacks=[rec, *callbacks])
        t = time.perf_counter()
        result = {"run": name, "samples": len(dataset)}
        try:
            trainer.train()
            result["outcome"] = "trained"
        except TrainingRefused as e:
            result["outcome"] = "refused"
            result["error"] = str(e)
        result["steps"] = trainer.state.global_step
        result["seconds"] = round(time.perf_counter() - t, 2)
        result["logs"] = rec.logs
        guard = next((c for c in callbacks if isinstance(c, GuardCallback)), None)
        if guard is not None and guard.stopped_by is not None:
            result["stopped_by"] = guard.stopped_by
            inc = os.path.join(a.out, name, "tokalign-incidents.jsonl")
            if os.path.exists(inc):
                result["incident"] = json.loads(open(inc).readline())
        losses = [l["loss"] for l in rec.logs]
        if losses:
            k = min(10, len(losses))
            result["first_losses"] = [round(x, 4) for x in losses[:k]]
            result["last_losses"] = [round(x, 4) for x in losses[-k:]]
            result["mean_first10"] = sum(losses[:k]) / k
            result["mean_last10"] = sum(losses[-k:]) / k
            result["steps_on_nothing"] = sum(1 for x in losses if x == 0 or not math.isfinite(x))
        print(json.dumps({k: v for k, v in result.items() if k != "logs"}, default=str), flush=True)
        return result

    results = []
    # 1. tokalign's shard.
    ds = ShardDataset(a.shard)
    results.append(train("tokalign", ds, [GuardCallback()]))

    # 2-4. LLaVA's own preprocess of the same records, with the same tokenizer (transformers 5).
    import llava_oracle
    conv_lib, ns = llava_oracle.load_llava(a.llava)
    htok = transformers.AutoTokenizer.from_pretrained(a.tokenizer, use_fast=False, padding_side="right")
    htok.model_max_length = 2048
    htok.pad_token = htok.unk_token  # LLaVA-1.5's train()
    conv_lib.default_conversation = conv_lib.conv_templates["v1"]
    llava = []
    import contextlib
    import io
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for rec in json.load(open(a.data)):
            src, has_image = llava_oracle.sources_for(conv_lib, ns, rec, "v1")
            out = ns["preprocess"](src, htok, has_image=has_image)
            llava.append({"id": rec["id"], "input_ids": out["input_ids"][0], "labels": out["labels"][0]})
    zero = sum(1 for s in llava if bool((s["labels"] == -100).all()))
    warnings = sum(1 for l in printed.getvalue().splitlines() if "tokenization mismatch" in l)
    print(f"LLaVA's preprocess_v1: {len(llava)} samples, {zero} with every label -100, "
          f"{warnings} 'tokenization mismatch' warnings printed", flush=True)
    results.append(train("llava", llava, [GuardCallback()]))
    results.append(train("llava-no-preflight", llava, [GuardCallback(max_zero_trained=len(llava))]))
    results.append(train("llava-unguarded", llava, []))
    summary = {"transformers": transformers.__version__, "torch": torch.__version__, "llava_zero_trained": zero,
               "llava_samples": len(llava), "llava_mismatch_warnings": warnings, "runs": results}
    with open(os.path.join(a.out, "trainer_summary.json"), "w") as f:
        json.dump(summary, f, indent=1, default=str)


if __name__ == "__main__":
    main()
