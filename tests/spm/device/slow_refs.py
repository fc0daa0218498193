#!/usr/bin/env python3
"""On the device machine: reference ids of transformers 4.37's slow LlamaTokenizer
(slow_llama.py) for tests/spm/slow_transformers_4_37.tsv. Run from a folder holding
corpus.jsonl (build/parity-corpus.jsonl followed by tests/spm/slow_corpus.jsonl) and
tok/{vicuna,tinyllama,yi,mistral-spm,vicuna-added}/; OUT as argument. Rows: tokenizer, legacy (config, true,
false: from_pretrained(..., legacy=...)), line, special|plain, sha256 of the ids; OUT also gets
slow_ids.jsonl with the ids themselves for diagnosing a difference."""
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sentencepiece
import slow_llama

out = sys.argv[1]
texts = [json.loads(l)["text"] for l in open("corpus.jsonl", encoding="utf-8")]
rows = []
dbg = open(os.path.join(out, "slow_ids.jsonl"), "w")
for name in ["vicuna", "tinyllama", "yi", "mistral-spm", "vicuna-added"]:
    for legacy in ("config", "true", "false"):
        kw = {} if legacy == "config" else {"legacy": legacy == "true"}
        t = slow_llama.load(f"tok/{name}", **kw)
        print(name, legacy, "legacy =", t.legacy, "add_bos =", t.add_bos_437, "add_eos =", t.add_eos_437,
              "specials =", t.all_special_tokens, "added =", len(t.added_tokens_decoder), file=sys.stderr)
        for i, s in enumerate(texts):
            for mode, v in (("special", t(s)["input_ids"]), ("plain", t(s, add_special_tokens=False)["input_ids"])):
                h = hashlib.sha256(json.dumps(v, separators=(",", ":")).encode()).hexdigest()[:16]
                rows.append(f"{name}\t{legacy}\t{i}\t{mode}\t{h}")
                dbg.write(json.dumps({"tok": name, "legacy": legacy, "line": i, "mode": mode, "ids": v}) + "\n")
with open(os.path.join(out, "slow_transformers_4_37.tsv"), "w") as f:
    f.write(f"# {slow_llama.version()}, sentencepiece {sentencepiece.__version__}\n")
    f.write("\n".join(rows) + "\n")
