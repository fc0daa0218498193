#!/usr/bin/env bash
# tokalign render against the real renderers, for every chat template we have (the npm
# oracle's tokenizer_config.json files, ../shared/data/tokenizers, tests/chat/jinja/templates/)
# x the message corpus tests/chat/jinja/messages.jsonl x {with, without} the generation prompt:
#   python  the golden files tests/chat/jinja/expected/<name>.<gen|nogen>.jsonl, rendered by
#           transformers 5.17 / jinja2 3.1.6 on the device machine (bench/device/jinja_job.sh);
#           every line must be byte-identical, {% generation %} spans included, and a line
#           Python refuses must be refused;
#   node    @huggingface/jinja (oracle/jinja_render.js): counted and listed where it differs;
#           it fails the test only where it agrees with Python and tokalign does not.
# Usage: jinja_parity.sh --bin TOKALIGN --work DIR. Templates whose source is absent are skipped
# with a message (../shared, oracle/node_modules); exit 77 when none is present.
set -euo pipefail
source tests/lib/bin_work.sh
parse_bin_work jinja_parity.sh "$@"
mkdir -p "$WORK"
JINJA=$WORK/prepared SHARED=${SHARED:-../shared} bash bench/device/jinja_prepare.sh > "$WORK/prepare.log" 2>&1 || true
[[ -d $WORK/prepared/templates ]] || { echo "SKIP: no templates prepared"; cat "$WORK/prepare.log"; exit 77; }
have_node=1
[[ -d oracle/node_modules/@huggingface/jinja ]] || { have_node=0; echo "note: @huggingface/jinja missing, node comparison skipped (make deps)"; }
python3 - "$BIN" "$WORK" "$have_node" <<'PY'
import json, os, subprocess, sys
bin_, work, have_node = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
prep = f"{work}/prepared/templates"
exp_dir = "tests/chat/jinja/expected"
msgs = "tests/chat/jinja/messages.jsonl"
def lines(path):
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
def same(a, b):
    if ("error" in a) != ("error" in b): return False
    return "error" in a or (a.get("text") == b.get("text") and a.get("generation", []) == b.get("generation", []))
total = ok = node_diff = node_agree_py_fail = 0
failures, node_notes, skipped = [], [], []
for f in sorted(os.listdir(exp_dir)):
    name, mode = f[: -len(".jsonl")].rsplit(".", 1)
    tmpl = f"{prep}/{name}.jinja"
    if not os.path.exists(tmpl):
        skipped.append(name); continue
    folder = f"{work}/tok/{name}"
    os.makedirs(folder, exist_ok=True)
    tokens = f"{prep}/{name}.tokens.json"
    with open(f"{folder}/tokenizer_config.json", "w") as t:
        t.write(open(tokens).read() if os.path.exists(tokens) else "{}")
    gen = ["--add-generation-prompt"] if mode == "gen" else []
    r = subprocess.run([bin_, "render", "-t", folder, "--chat-template", tmpl, "-i", msgs, "--date", "2026-11-28",
                        "--generation-spans", *gen], capture_output=True, text=True)
    ours = [json.loads(l) for l in r.stdout.split("\n") if l]
    want = lines(f"{exp_dir}/{f}")
    node = None
    if have_node:
        cfg = ["--config", tokens] if os.path.exists(tokens) else []
        n = subprocess.run(["node", "oracle/jinja_render.js", "--template", tmpl, *cfg, "--messages", msgs, "--date", "2026-11-28", *gen],
                           capture_output=True, text=True)
        node = [json.loads(l) for l in n.stdout.split("\n") if l]
    if len(ours) != len(want):
        failures.append(f"{name}.{mode}: {len(ours)} lines out, {len(want)} expected ({r.stderr.strip()[-300:]})"); continue
    for i, (o, w) in enumerate(zip(ours, want)):
        total += 1
        if same(o, w): ok += 1
        else: failures.append(f"{name}.{mode} line {i + 1}: python {json.dumps(w, ensure_ascii=False)[:200]}\n      tokalign {json.dumps(o, ensure_ascii=False)[:200]}")
        if node is not None and i < len(node):
            nw = dict(node[i]); nw.pop("generation", None); wn = dict(w); wn.pop("generation", None); on = dict(o); on.pop("generation", None)
            if not same(nw, wn):
                node_diff += 1
                if len(node_notes) < 8: node_notes.append(f"{name}.{mode} line {i + 1}: node {json.dumps(nw, ensure_ascii=False)[:160]} / python {json.dumps(wn, ensure_ascii=False)[:160]}")
if skipped: print(f"skipped (source absent): {', '.join(sorted(set(skipped)))}")
print(f"tokalign render vs Python jinja2 (transformers): {ok}/{total} lines identical")
if have_node: print(f"@huggingface/jinja differs from Python on {node_diff}/{total} lines (not tokalign's concern; first ones below)")
for n in node_notes: print("  node: " + n)
for f in failures[:15]: print("FAIL " + f)
sys.exit(1 if failures or total == 0 else 0)
PY
