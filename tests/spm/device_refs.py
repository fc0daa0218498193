#!/usr/bin/env python3
"""On the device machine: the reference ids of tests/spm/transformers_5_17.tsv. Run from a folder holding
corpus.jsonl (build/parity-corpus.jsonl) and tok/{vicuna,tinyllama,yi,mistral-spm}/ (tokenizer.model with its
configs and no tokenizer.json; yi = yi-34b/tokenizer.model + the Yi-1.5 configs), with OUT as argument."""
import json, sys, os, hashlib
import transformers, tokenizers
out = sys.argv[1]
texts = [json.loads(l)["text"] for l in open("corpus.jsonl", encoding="utf-8")]
rows = []
for name in ["vicuna", "tinyllama", "yi", "mistral-spm"]:
    res = {}
    for fast in (True, False):
        t = transformers.AutoTokenizer.from_pretrained(f"tok/{name}", use_fast=fast)
        res[fast] = [(t(s)["input_ids"], t(s, add_special_tokens=False)["input_ids"]) for s in texts]
    same = sum(a == b for a, b in zip(res[True], res[False]))
    print(name, "use_fast True == False on", same, "of", len(texts), file=sys.stderr)
    for i, (ids, plain) in enumerate(res[True]):
        for mode, v in (("special", ids), ("plain", plain)):
            h = hashlib.sha256(json.dumps(v, separators=(",", ":")).encode()).hexdigest()[:16]
            rows.append(f"{name}\t{i}\t{mode}\t{h}")
with open(os.path.join(out, "spm_transformers.tsv"), "w") as f:
    f.write(f"# transformers {transformers.__version__}, tokenizers {tokenizers.__version__}\n")
    f.write("\n".join(rows) + "\n")
