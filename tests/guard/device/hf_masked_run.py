#!/usr/bin/env python3
"""A real Hugging Face Trainer run for `tokalign guard` (on the device machine): a tiny
randomly initialised Llama, sequential batches, and a stretch of batches whose labels are all
-100 (what LLaVA's preprocessing produces for a "tokenization mismatch" sample).

usage: hf_masked_run.py --output_dir DIR [--masked A-B] [--resume_from_checkpoint CKPT | --llava-resume]
       [--max_steps N] [--save_steps N] [--logging_steps N]
--masked A-B: the batches of steps A..B (1-based) have every label masked.
"""
import argparse
import torch
from torch.utils.data import Dataset, SequentialSampler
from transformers import LlamaConfig, LlamaForCausalLM, Trainer, TrainingArguments

BATCH = 8
SEQ = 32


class Tokens(Dataset):
    def __init__(self, n, masked_steps):
        g = torch.Generator().manual_seed(0)
        # A learnable signal: each sequence counts up from a random start (mod 256).
        starts = torch.randint(0, 256, (n,), generator=g)
        self.ids = (starts[:, None] + torch.arange(SEQ)[None, :]) % 256
        self.masked = set()
        if masked_steps:
            a, b = masked_steps
            self.masked = set(range((a - 1) * BATCH, b * BATCH))

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        ids = self.ids[i]
        labels = torch.full_like(ids, -100) if i in self.masked else ids.clone()
        return {"input_ids": ids, "labels": labels, "attention_mask": torch.ones_like(ids)}


class SequentialTrainer(Trainer):
    # Sequential batches, so that "the batches of steps A..B" is a fixed stretch of data
    # (HF's resume skips the first global_step batches of the epoch either way).
    def _get_train_sampler(self, *args, **kwargs):
        return SequentialSampler(self.train_dataset)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--output_dir", required=True)
    ap.add_argument("--resume_from_checkpoint")
    ap.add_argument("--masked")
    ap.add_argument("--llava-resume", action="store_true",
                    help="resume as LLaVA's train.py does: from the newest checkpoint-* of output_dir, if any")
    ap.add_argument("--max_steps", type=int, default=120)
    ap.add_argument("--save_steps", type=int, default=10)
    ap.add_argument("--logging_steps", type=int, default=1)
    a = ap.parse_args()
    masked = tuple(int(x) for x in a.masked.split("-")) if a.masked else None
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64))
    args = TrainingArguments(output_dir=a.output_dir, max_steps=a.max_steps, per_device_train_batch_size=BATCH,
                             learning_rate=3e-3, warmup_steps=5, logging_steps=a.logging_steps,
                             save_steps=a.save_steps, save_total_limit=3, report_to=[], seed=0,
                             logging_nan_inf_filter=False, dataloader_num_workers=0)
    trainer = SequentialTrainer(model=model, args=args, train_dataset=Tokens(BATCH * a.max_steps, masked))
    if a.llava_resume:
        # LLaVA's train.py: `if list(pathlib.Path(output_dir).glob("checkpoint-*")):
        # trainer.train(resume_from_checkpoint=True)`, which HF resolves to the newest one.
        import pathlib
        resume = True if list(pathlib.Path(a.output_dir).glob("checkpoint-*")) else None
        trainer.train(resume_from_checkpoint=resume)
    else:
        trainer.train(resume_from_checkpoint=a.resume_from_checkpoint)


if __name__ == "__main__":
    main()
