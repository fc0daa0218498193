#!/usr/bin/env python3
"""A LLaVA-mix-665k-shaped dataset for benchmarks, deterministic by seed (stdlib only).

usage: gen_llava_mix.py --n N [--seed S] [--format json|jsonl] [--text FILE] > data

The mixture's composition is LLaVA-1.5's (Liu et al., "Improved Baselines with Visual
Instruction Tuning", Table 7: llava_v1_5_mix665k.json): per source, its share of samples,
whether it has an image, how many question/answer rounds a sample holds, and the lengths of
questions and answers in words. Round counts and lengths are estimates from each source's
format (LLaVA groups a VQA image's questions into one multi-round sample; ShareGPT
conversations are long and text-only); the LLaVA-Instruct rows follow the GPT-4 samples in
../shared/data/llava-samples/coco2014_val_gpt4_qa_30x3.jsonl (answers of 20-150 words).
Words are drawn from --text (default: Pride and Prejudice from ../shared/data/text, else a
built-in syllable vocabulary), so the tokenizer sees English.
"""
import argparse
import json
import os
import random
import sys

# source: (samples in the 665k mix, has image, rounds (lo, hi), question words, answer words, suffix)
SOURCES = {
    "llava_instruct": (158_000, True, (1, 5), (8, 25), (20, 150), ""),
    "sharegpt": (40_000, False, (1, 8), (10, 120), (60, 400), ""),
    "vqav2": (83_000, True, (2, 8), (4, 10), (1, 2), "\nAnswer the question using a single word or phrase."),
    "gqa": (72_000, True, (3, 12), (5, 14), (1, 2), "\nAnswer the question using a single word or phrase."),
    "okvqa": (9_000, True, (1, 2), (6, 14), (1, 3), "\nAnswer the question using a single word or phrase."),
    "ocrvqa": (80_000, True, (3, 6), (4, 10), (1, 6), "\nAnswer the question using a single word or phrase."),
    "aokvqa": (66_000, True, (1, 2), (20, 40), (1, 2),
               "\nAnswer with the option's letter from the given choices directly."),
    "textcaps": (22_000, True, (1, 1), (8, 12), (8, 25), ""),
    "refcoco": (48_000, True, (2, 8), (8, 16), (4, 12), ""),
    "vg": (86_000, True, (3, 10), (10, 20), (3, 12), ""),
}


def words_from(path):
    if path and os.path.exists(path):
        text = open(path, encoding="utf-8").read()
        w = [t for t in text.split() if t]
        if len(w) > 1000:
            return w
    syl = ["ka", "to", "ri", "mon", "sel", "ve", "an", "dor", "li", "que", "pa", "the", "is", "of", "in"]
    rng = random.Random(7)
    return ["".join(rng.choice(syl) for _ in range(rng.randint(1, 3))) for _ in range(5000)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", choices=["json", "jsonl"], default="json")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--text", default=os.path.join(here, "..", "..", "shared", "data", "text", "pride_and_prejudice.txt"))
    a = ap.parse_args()
    words = words_from(a.text)
    rng = random.Random(a.seed)
    names = list(SOURCES)
    weights = [SOURCES[k][0] for k in names]

    def phrase(lo, hi):
        n = rng.randint(lo, hi)
        start = rng.randrange(0, len(words) - n)
        return " ".join(words[start:start + n])

    out = sys.stdout
    if a.format == "json":
        out.write("[\n")
    for i in range(a.n):
        src = rng.choices(names, weights)[0]
        _, image, rounds, q, ans, suffix = SOURCES[src]
        conv = []
        for r in range(rng.randint(*rounds)):
            question = phrase(*q) + suffix
            if r == 0 and image:
                question = ("<image>\n" + question) if rng.random() < 0.5 else (question + "\n<image>")
            conv.append({"from": "human", "value": question})
            conv.append({"from": "gpt", "value": phrase(*ans)})
        rec = {"id": f"{src}-{i:08d}"}
        if image:
            rec["image"] = f"{src}/{i:08d}.jpg"
        rec["conversations"] = conv
        line = json.dumps(rec, ensure_ascii=False)
        if a.format == "json":
            out.write(("  " if i == 0 else ", ") + line + "\n")
        else:
            out.write(line + "\n")
    if a.format == "json":
        out.write("]\n")


if __name__ == "__main__":
    main()
