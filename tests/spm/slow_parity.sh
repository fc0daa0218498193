#!/usr/bin/env bash
# `tokalign encode --slow` (transformers 4.37's slow SentencePiece LlamaTokenizer, what LLaVA's
# use_fast=False loads) against that tokenizer run on the device machine
# (tests/spm/device/slow_llama.py, slow_refs.py): the 469-line corpus plus
# tests/spm/slow_corpus.jsonl (special tokens next to text, "▁" in the text, leading spaces), for
# Vicuna-7B-v1.5 (legacy False), TinyLlama-1.1B-Chat (legacy False, no add_bos_token), Yi (legacy
# True, no BOS, 305 added tokens), Mistral-7B-Instruct-v0.2 (legacy True) and Vicuna with added
# tokens that lstrip / rstrip / are single_word (tests/spm/added_tokens_config.json), each with the
# config's legacy and with legacy forced true and false; with and without special tokens.
# Usage: slow_parity.sh TOKALIGN CORPUS WORKDIR. Exit 77 without ../shared or node.
set -uo pipefail
BIN=$1 CORPUS=$2 W=$3
S=../shared/data/tokenizers
[[ -d $S ]] || { echo "SKIP: ../shared/data/tokenizers is absent"; exit 77; }
command -v node >/dev/null || { echo "SKIP: node is missing"; exit 77; }
source tests/lib/spm_folders.sh
spm_folders "$W"
cat "$CORPUS" tests/spm/slow_corpus.jsonl > "$W/slow-corpus.jsonl"
for name in vicuna tinyllama yi mistral-spm vicuna-added; do
  for legacy in config true false; do
    flag=(); [[ $legacy != config ]] && flag=(--legacy $legacy)
    "$BIN" encode --slow "${flag[@]}" -t "${SPM_DIRS[$name]}" --jsonl < "$W/slow-corpus.jsonl" > "$W/$name.$legacy.special.jsonl" || exit 1
    "$BIN" encode --slow "${flag[@]}" -t "${SPM_DIRS[$name]}" --jsonl --no-add-special < "$W/slow-corpus.jsonl" > "$W/$name.$legacy.plain.jsonl" || exit 1
  done
done
node - "$W" tests/spm/slow_transformers_4_37.tsv <<'JS'
const fs = require("fs"), crypto = require("crypto"), path = require("path");
const [w, tsv] = process.argv.slice(2);
const want = new Map();
for (const l of fs.readFileSync(tsv, "utf8").split("\n")) if (l && !l.startsWith("#")) {
  const [name, legacy, line, mode, h] = l.split("\t");
  want.set(`${name} ${legacy} ${line} ${mode}`, h);
}
let same = 0, total = 0;
const fails = [];
for (const name of ["vicuna", "tinyllama", "yi", "mistral-spm", "vicuna-added"]) for (const legacy of ["config", "true", "false"])
  for (const mode of ["special", "plain"]) {
    const lines = fs.readFileSync(path.join(w, `${name}.${legacy}.${mode}.jsonl`), "utf8").split("\n").filter(Boolean);
    lines.forEach((l, i) => {
      total++;
      const h = crypto.createHash("sha256").update(JSON.stringify(JSON.parse(l).ids)).digest("hex").slice(0, 16);
      if (h === want.get(`${name} ${legacy} ${i} ${mode}`)) same++;
      else if (fails.length < 10) fails.push(`${name} legacy=${legacy} line ${i} (${mode}) differs from the slow tokenizer`);
    });
  }
console.log(`encode --slow vs transformers 4.37's slow LlamaTokenizer: ${same}/${total} lines identical (expected ${want.size})`);
for (const f of fails) console.log("FAIL " + f);
process.exit(same === want.size && total === want.size ? 0 : 1);
JS
