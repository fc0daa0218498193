#!/usr/bin/env python3
"""Times LLaVA's own preprocessing (its preprocess_multimodal + preprocess -> preprocess_v1,
executed unchanged from a LLaVA checkout by tests/compile/device/llava_oracle.py's loader) or
the Hugging Face tokenizers reference (the rendered prompt encoded once per sample), on the
device machine. Prints one JSON line: {"what", "samples", "procs", "seconds", "per_s"}.

usage: llava_preprocess_bench.py --llava DIR --tokenizer DIR --data FILE --n N
         (--llava-tokenizer slow|fast --procs P | --hf-threads T)
Timing covers the preprocessing loop only (data already parsed, tokenizer already loaded),
which favours the peers: tokalign is timed as a whole process.
"""
import argparse
import json
import multiprocessing as mp
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "compile", "device"))

ARGS = None
STATE = {}


def setup():
    import torch
    torch.set_num_threads(1)
    import llava_oracle
    import transformers
    conv_lib, ns = llava_oracle.load_llava(ARGS.llava)
    tok = transformers.AutoTokenizer.from_pretrained(ARGS.tokenizer, use_fast=ARGS.llava_tokenizer == "fast",
                                                     padding_side="right")
    tok.model_max_length = 2048
    tok.pad_token = tok.unk_token  # LLaVA-1.5's train(): pad = unk
    conv_lib.default_conversation = conv_lib.conv_templates["v1"]
    STATE.update(conv_lib=conv_lib, ns=ns, tok=tok, oracle=llava_oracle)


def work(chunk):
    if not STATE:
        setup()
    ns, tok, oracle, conv_lib = STATE["ns"], STATE["tok"], STATE["oracle"], STATE["conv_lib"]
    t = time.perf_counter()
    tokens = 0
    for rec in chunk:
        src, has_image = oracle.sources_for(conv_lib, ns, rec, "v1")
        out = ns["preprocess"](src, tok, has_image=has_image)
        tokens += int(out["input_ids"][0].shape[0])
    return time.perf_counter() - t, tokens


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--llava")
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--llava-tokenizer", choices=["slow", "fast"])
    ap.add_argument("--procs", type=int, default=1)
    ap.add_argument("--hf-threads", type=int)
    ap.add_argument("--slice", default="0/1",
                    help="K/S: only samples K, K+S, K+2S, ... of the first N (S such runs cover them all)")
    ARGS = ap.parse_args()
    try:
        part, parts = (int(x) for x in ARGS.slice.split("/"))
    except ValueError:
        ap.error(f"--slice {ARGS.slice}: want K/S, two integers")
    if not 0 <= part < parts:
        ap.error(f"--slice {ARGS.slice}: want K/S with 0 <= K < S")
    data = json.load(open(ARGS.data))[: ARGS.n][part::parts]
    if ARGS.hf_threads:
        os.environ["RAYON_NUM_THREADS"] = str(ARGS.hf_threads)
        import transformers
        fast = transformers.AutoTokenizer.from_pretrained(ARGS.tokenizer, use_fast=True)._tokenizer
        system = ("A chat between a curious user and an artificial intelligence assistant. "
                  "The assistant gives helpful, detailed, and polite answers to the user's questions.")

        def render(s):
            p = system + " "
            for i, m in enumerate(s["conversations"]):
                p += ("USER" if m["from"] == "human" else "ASSISTANT") + ": " + m["value"] + (" " if i % 2 == 0 else "</s>")
            return p
        t = time.perf_counter()
        tokens = 0
        for i in range(0, len(data), 1000):
            for e in fast.encode_batch([render(s) for s in data[i:i + 1000]]):
                tokens += len(e.ids)
        secs = time.perf_counter() - t
        what, procs = f"hf-tokenizers-reference threads={ARGS.hf_threads}", ARGS.hf_threads
    else:
        procs = ARGS.procs
        chunks = [data[i::procs] for i in range(procs)]
        t = time.perf_counter()
        if procs == 1:
            setup()
            times = [work(chunks[0])]
        else:
            with mp.get_context("fork").Pool(procs) as pool:
                times = pool.map(work, chunks)
        wall = time.perf_counter() - t
        # Per-process loop time (tokenizer loading excluded); the wall time includes it.
        secs = max(x for x, _ in times) if procs > 1 else times[0][0]
        tokens = sum(n for _, n in times)
        what = f"llava-preprocess_v1 tokenizer={ARGS.llava_tokenizer} procs={procs} (wall incl. setup {wall:.1f} s)"
        if parts > 1:
            what += f" slice {part}/{parts}"
    print(json.dumps({"what": what, "samples": len(data), "procs": procs, "seconds": round(secs, 3),
                      "per_s": round(len(data) / secs, 1), "tokens": tokens}), flush=True)


if __name__ == "__main__":
    main()
