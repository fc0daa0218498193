#!/usr/bin/env bash
# tokenizer.model folders (no tokenizer.json) against transformers 5.17 on the device machine:
# `tokalign encode` on the 469-line corpus, with and without special tokens, for Vicuna-7B-v1.5,
# TinyLlama-1.1B-Chat, Yi (34B model, Yi-1.5 configs) and Mistral-7B-Instruct-v0.2 without its
# tokenizer.json; hashes compared with tests/spm/transformers_5_17.tsv.
# Usage: parity.sh TOKALIGN CORPUS WORKDIR. Exit 77 without ../shared or node.
set -uo pipefail
BIN=$1 CORPUS=$2 W=$3
S=../shared/data/tokenizers
[[ -d $S ]] || { echo "SKIP: ../shared/data/tokenizers is absent"; exit 77; }
command -v node >/dev/null || { echo "SKIP: node is missing"; exit 77; }
source tests/lib/spm_folders.sh
spm_folders "$W"
for name in vicuna tinyllama yi mistral-spm; do
  "$BIN" encode -t "${SPM_DIRS[$name]}" --jsonl < "$CORPUS" > "$W/$name.special.jsonl" || exit 1
  "$BIN" encode -t "${SPM_DIRS[$name]}" --jsonl --no-add-special < "$CORPUS" > "$W/$name.plain.jsonl" || exit 1
done
node - "$W" tests/spm/transformers_5_17.tsv <<'JS'
const fs = require("fs"), crypto = require("crypto"), path = require("path");
const [w, tsv] = process.argv.slice(2);
const want = new Map();
for (const l of fs.readFileSync(tsv, "utf8").split("\n")) if (l && !l.startsWith("#")) {
  const [name, line, mode, h] = l.split("\t");
  want.set(`${name} ${line} ${mode}`, h);
}
let same = 0, total = 0;
const fails = [];
for (const name of ["vicuna", "tinyllama", "yi", "mistral-spm"]) for (const mode of ["special", "plain"]) {
  const lines = fs.readFileSync(path.join(w, `${name}.${mode}.jsonl`), "utf8").split("\n").filter(Boolean);
  lines.forEach((l, i) => {
    total++;
    const h = crypto.createHash("sha256").update(JSON.stringify(JSON.parse(l).ids)).digest("hex").slice(0, 16);
    if (h === want.get(`${name} ${i} ${mode}`)) same++;
    else if (fails.length < 10) fails.push(`${name} line ${i} (${mode}) differs from transformers`);
  });
}
console.log(`tokenizer.model folders vs transformers 5.17: ${same}/${total} lines identical (expected ${want.size})`);
for (const f of fails) console.log("FAIL " + f);
process.exit(same === want.size && total === want.size ? 0 : 1);
JS
