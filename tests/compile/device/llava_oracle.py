#!/usr/bin/env python3
"""Runs LLaVA's own preprocessing code (not a re-implementation) on a dataset, on the device
machine, which has torch, transformers, tokenizers and sentencepiece.

LLaVA's train.py cannot be imported without its model zoo, deepspeed and a GPU setup, so this
script reads the source of the functions it needs from a checkout (--llava DIR, holding
llava/train/train.py, llava/conversation.py, llava/mm_utils.py, llava/constants.py of
haotian-liu/LLaVA or LLaVA-VL/LLaVA-NeXT) and executes them unchanged in a namespace with
their imports. Nothing of LLaVA is stored in this repository.

Two outputs under --out:
  prompts.jsonl   {"impl", "template", "id", "prompt"}: Conversation.get_prompt() after
                  preprocess_multimodal, per template and LLaVA-format sample (tokalign's
                  rendering must equal it: tests/compile/llava_prompts.sh).
  zeroing.jsonl   {"impl", "tokenizer", "template", "id", "zeroed", "error", "printed"}: the
                  labels LLaVA's preprocess() produces with the real (slow where LLaVA uses
                  slow) tokenizer: whether every label is IGNORE_INDEX, and what it printed.
  labels.jsonl    with --labels: LLaVA's input_ids and labels per sample.
"""
import argparse
import ast
import contextlib
import copy
import io
import json
import os
import re
import sys
from typing import Dict, List, Optional, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../spm/device"))
import slow_llama  # noqa: E402  transformers 4.37's slow LlamaTokenizer (--transformers 4.37)

WANTED = [
    "_tokenize_fn", "_mask_targets", "_add_speaker_and_signal", "preprocess_multimodal",
    "preprocess_llama_2", "preprocess_gemma", "preprocess_qwen", "preprocess_llama3", "preprocess_v1",
    "preprocess_mpt", "preprocess_plain", "preprocess",
]


def load_llava(root):
    sys.path.insert(0, root)
    import torch
    import transformers
    import tokenizers
    from packaging import version
    with contextlib.redirect_stdout(io.StringIO()):
        from llava import conversation as conversation_lib  # NeXT tries the hub for Llama-3; offline it prints and goes on
    from llava import constants
    from llava.mm_utils import tokenizer_image_token
    src = open(os.path.join(root, "llava/train/train.py")).read()
    tree = ast.parse(src)
    ns = dict(torch=torch, transformers=transformers, tokenizers=tokenizers, copy=copy, re=re, json=json,
              conversation_lib=conversation_lib, tokenizer_image_token=tokenizer_image_token, Dict=Dict,
              Sequence=Sequence, List=List, Optional=Optional, version=version, DataArguments=object,
              IS_TOKENIZER_GREATER_THAN_0_14=version.parse(tokenizers.__version__) >= version.parse("0.14"),
              rank0_print=print)
    for k in dir(constants):
        if k.isupper():
            ns[k] = getattr(constants, k)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in WANTED:
            exec(compile(ast.Module(body=[node], type_ignores=[]), "train.py:" + node.name, "exec"), ns)
    return conversation_lib, ns


def shim_4x(tok, folder):
    """transformers 4.x's tokenizer API where LLaVA-NeXT's preprocess_qwen / preprocess_llama3
    need it and 5.x changed it: additional_special_tokens_ids (the config's
    additional_special_tokens as ids) and apply_chat_template returning a list of ids."""
    extra = []
    for name in ("special_tokens_map.json", "tokenizer_config.json"):
        p = os.path.join(folder, name)
        if os.path.exists(p):
            v = json.load(open(p)).get("additional_special_tokens")
            if v is not None:
                extra = [x["content"] if isinstance(x, dict) else x for x in v]
    base = type(tok)

    class Shim4x(base):
        @property
        def additional_special_tokens_ids(self):
            return self.convert_tokens_to_ids(extra)

        def apply_chat_template(self, conversation, **kw):
            out = base.apply_chat_template(self, conversation, **kw)
            return list(out["input_ids"]) if hasattr(out, "keys") else out

    tok.__class__ = Shim4x
    return tok


class DataArgs:
    is_multimodal = True
    mm_use_im_start_end = False


def llava_records(paths):
    for p in paths:
        text = open(p).read()
        if text.lstrip().startswith("["):
            recs = json.loads(text)
        else:
            recs = []
            for line in text.split("\n"):  # not splitlines(): U+2028 inside a record is not a line break
                try:
                    recs.append(json.loads(line))
                except ValueError:
                    pass  # the malformed test record
        for r in recs:
            if isinstance(r, dict) and isinstance(r.get("conversations"), list):
                roles = [m.get("from") for m in r["conversations"]]
                if roles and all(x in ("human", "gpt") for x in roles) and roles[0] == "human" and \
                        all(isinstance(m.get("value"), str) and m["value"] for m in r["conversations"]):
                    yield r


def sources_for(conv_lib, ns, rec, template):
    conv_lib.default_conversation = conv_lib.conv_templates[template]
    src = copy.deepcopy([rec["conversations"]])
    has_image = "image" in rec
    if has_image:
        src = ns["preprocess_multimodal"](src, DataArgs())
    return src, has_image


def render(conv_lib, source, template):
    conv = conv_lib.conv_templates[template].copy()
    roles = {"human": conv.roles[0], "gpt": conv.roles[1]}
    conv.messages = []
    for s in source:
        conv.append_message(roles[s["from"]], s["value"])
    return conv.get_prompt()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llava", required=True)
    ap.add_argument("--impl", required=True)
    ap.add_argument("--data", nargs="+", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--templates", nargs="*", default=[])
    ap.add_argument("--zeroing", nargs="*", default=[], help="NAME=TOKENIZER_DIR:FAST(0/1):TEMPLATE,...")
    ap.add_argument("--pad-rule", default="train", choices=["train", "own"])
    ap.add_argument("--labels", action="store_true", help="also write labels.jsonl: LLaVA's input_ids and labels per sample")
    ap.add_argument("--shim-4x", action="store_true", help="give tokenizers transformers 4.x's additional_special_tokens_ids "
                    "and list-returning apply_chat_template (LLaVA-NeXT's preprocess_qwen / preprocess_llama3 need them)")
    ap.add_argument("--transformers", default="installed", choices=["installed", "4.37"],
                    help="4.37: use_fast=False on a LlamaTokenizer folder loads transformers 4.37's slow SentencePiece "
                         "LlamaTokenizer (tests/spm/device/slow_llama.py) instead of the installed transformers' one")
    a = ap.parse_args()
    conv_lib, ns = load_llava(a.llava)
    recs = list(llava_records(a.data))
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "prompts.jsonl"), "a") as f:
        for t in a.templates:
            if t not in conv_lib.conv_templates:
                print(f"{a.impl}: no template {t}", file=sys.stderr)
                continue
            for r in recs:
                src, _ = sources_for(conv_lib, ns, r, t)
                try:
                    p = render(conv_lib, src[0], t)
                except Exception as e:  # plain and llama_3 cannot render through get_prompt
                    p = None
                f.write(json.dumps({"impl": a.impl, "template": t, "id": str(r.get("id")), "prompt": p}, ensure_ascii=False) + "\n")
    import transformers
    with open(os.path.join(a.out, "zeroing.jsonl"), "a") as f:
        for spec in a.zeroing:
            name, rest = spec.split("=", 1)
            tok_dir, fast, templates = rest.split(":")
            try:
                if a.transformers == "4.37" and fast == "0" and slow_llama.is_llama_slow(tok_dir):
                    tok = slow_llama.load(tok_dir, padding_side="right")
                else:
                    tok = transformers.AutoTokenizer.from_pretrained(tok_dir, use_fast=fast == "1", padding_side="right")
            except Exception as e:
                print(f"{name}: cannot load tokenizer: {e}", file=sys.stderr)
                continue
            if a.shim_4x:
                tok = shim_4x(tok, tok_dir)
            tok.model_max_length = 2048  # train(): model_max_length from the training arguments
            # train()'s pad rule: LLaVA-1.5 sets pad = unk unconditionally (None when there is no
            # unk); LLaVA-NeXT only when there is an unk token. --pad-rule own keeps the
            # tokenizer's pad when it has one (what earlier measurements used).
            if a.pad_rule == "own":
                if tok.pad_token is None and tok.unk_token is not None:
                    tok.pad_token = tok.unk_token
            elif a.impl == "llava" or tok.unk_token is not None:
                tok.pad_token = tok.unk_token
            for t in templates.split(","):
                zeroed = 0
                for r in recs:
                    src, has_image = sources_for(conv_lib, ns, r, t)
                    buf = io.StringIO()
                    err = None
                    z = None
                    try:
                        with contextlib.redirect_stdout(buf):
                            out = ns["preprocess"](src, tok, has_image=has_image)
                        lab = out["labels"][0]
                        z = bool((lab == ns["IGNORE_INDEX"]).all())
                    except Exception as e:
                        err = f"{type(e).__name__}: {e}"
                    zeroed += bool(z)
                    total = None
                    if err is None and tok.pad_token_id is not None:
                        total = int((out["input_ids"][0] != tok.pad_token_id).sum())
                    f.write(json.dumps({"impl": a.impl, "tokenizer": name, "template": t, "id": str(r.get("id")),
                                        "zeroed": z, "error": err, "printed": buf.getvalue().strip()[:300],
                                        "total_len": total}) + "\n")
                    if a.labels and err is None:
                        with open(os.path.join(a.out, "labels.jsonl"), "a") as lf:
                            lf.write(json.dumps({"impl": a.impl, "tokenizer": name, "template": t, "id": str(r.get("id")),
                                                 "input_ids": out["input_ids"][0].tolist(), "labels": lab.tolist()}) + "\n")
                print(f"{a.impl} {name} {t}: {zeroed}/{len(recs)} zeroed", file=sys.stderr)


if __name__ == "__main__":
    main()
