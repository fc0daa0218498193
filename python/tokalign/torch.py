"""tokalign for PyTorch training scripts.

    from tokalign.torch import ShardDataset, Collator, preprocess
    ds = ShardDataset("shard/")                 # memory-mapped; ds[i] -> dict of tensors
    ds.lengths                                  # tokens per sample (length-grouped sampling)
    loader = DataLoader(ds, batch_size=8, collate_fn=Collator(pad_token_id=tok.pad_token_id), num_workers=4)

    # LLaVA's train.py: replace `preprocess(...)` by this one (same arguments and return shape)
    from tokalign.torch import preprocess
"""
import os
import sys

import numpy as np
import torch

from . import IGNORE_INDEX, Tokenizer, compile_sample

try:
    import tokalign_shard as _shard
except ImportError:  # in a source tree: python/tokalign_shard.py beside the package
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import tokalign_shard as _shard

__all__ = ["ShardDataset", "Collator", "preprocess"]


class ShardDataset(torch.utils.data.Dataset):
    """A map-style Dataset over a shard folder (`tokalign compile --format shard`).

    Each item is a dict: input_ids and labels as int64 tensors (labels -100 where not
    trained, -200 input ids at image placeholders unless compiled with --image-tokens
    expand), plus "id", "images" (the image slots) and "flags". The files are memory-mapped,
    and the file handles are reopened in each DataLoader worker (the object is pickled to
    the workers without its mappings)."""

    def __init__(self, path, verify=False):
        self.path = path
        self._verify = verify
        self._shard = _shard.Shard(path, verify=verify)
        self.lengths = [int(n) for n in self._shard.lengths]

    def __len__(self):
        return len(self.lengths)

    @property
    def shard_path(self):
        """The shard folder (tokalign.stats(shard=...) reads it whole)."""
        return self.path

    def __getitem__(self, i):
        s = self._shard[i]
        return {
            "id": s.id,
            "input_ids": torch.from_numpy(np.asarray(s.input_ids, dtype=np.int64)),
            "labels": torch.from_numpy(np.asarray(s.labels, dtype=np.int64)),
            "images": list(s.images),
            "flags": int(s.flags),
        }

    def __getstate__(self):
        return {"path": self.path, "_verify": False, "lengths": self.lengths}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._shard = _shard.Shard(self.path, verify=False)


class Collator:
    """Pads a list of ShardDataset items into a batch: input_ids with the tokenizer's own pad
    id, labels with -100, and an attention_mask. The pad id must be given (or read from a
    tokenizer with Collator.for_tokenizer): a tokenizer without one is an error, never a
    silent 0 (LLaVA-NeXT pads with 0 in places, which is a real token)."""

    def __init__(self, pad_token_id, padding_side="right", max_length=None):
        if pad_token_id is None:
            raise ValueError("Collator: pad_token_id is required (the tokenizer has no pad token: set one explicitly)")
        if padding_side not in ("right", "left"):
            raise ValueError("Collator: padding_side is 'right' or 'left'")
        self.pad_token_id = int(pad_token_id)
        self.padding_side = padding_side
        self.max_length = max_length

    @classmethod
    def for_tokenizer(cls, tokenizer_path, **kw):
        pad = Tokenizer(tokenizer_path).pad_token_id
        if pad is None:
            raise ValueError(f"Collator: {tokenizer_path} has no pad token (tokenizer_config.json); give pad_token_id")
        return cls(pad, **kw)

    def __call__(self, items):
        seqs = [it["input_ids"][: self.max_length] if self.max_length else it["input_ids"] for it in items]
        labs = [it["labels"][: self.max_length] if self.max_length else it["labels"] for it in items]
        n = max(len(s) for s in seqs)
        input_ids = torch.full((len(seqs), n), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(seqs), n), IGNORE_INDEX, dtype=torch.long)
        mask = torch.zeros((len(seqs), n), dtype=torch.long)
        for k, (s, l) in enumerate(zip(seqs, labs)):
            sl = slice(n - len(s), n) if self.padding_side == "left" else slice(0, len(s))
            input_ids[k, sl] = s
            labels[k, sl] = l
            mask[k, sl] = 1
        return {"input_ids": input_ids, "labels": labels, "attention_mask": mask}


def preprocess(sources, tokenizer, template, has_image=False, **options):
    """LLaVA's preprocess(sources, tokenizer, has_image) with tokalign's labels: `sources` is a
    list of conversations, each a list of {"from", "value"} (what LLaVA's LazySupervisedDataset
    passes), `tokenizer` a path (or a tokalign.Tokenizer's path), `template` a tokalign template
    (llava_v1, llava_llama_3, ...). Returns dict(input_ids=..., labels=...) as LLaVA does:
    tensors stacked when the lengths agree (one source: shape (1, n)), else lists of tensors.
    A conversation tokalign would quarantine raises tokalign.QuarantineError."""
    path = tokenizer.path if hasattr(tokenizer, "path") else tokenizer
    ids, labels = [], []
    for k, conv in enumerate(sources):
        record = {"id": str(k), "conversations": conv}
        if has_image:
            n = sum(str(turn.get("value", "")).count("<image>") for turn in conv)
            record["image"] = [f"image{j}" for j in range(n)] if n != 1 else "image0"
        s = compile_sample(record, tokenizer=path, template=template, **options)
        ids.append(torch.from_numpy(s["input_ids"].astype(np.int64)))
        labels.append(torch.from_numpy(s["labels"].astype(np.int64)))
    if len({len(x) for x in ids}) == 1:
        return dict(input_ids=torch.stack(ids), labels=torch.stack(labels))
    return dict(input_ids=ids, labels=labels)
