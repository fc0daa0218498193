#!/usr/bin/env node
// Test oracle for `tokalign compile`: the token ids Hugging Face tokenizers gives for a
// rendered prompt, cut at images the way LLaVA's tokenizer_image_token() cuts it.
//
// Usage: node oracle/hf_prompt_ids.js --tokenizer PATH/tokenizer.json [--no-add-special]
//        < compiled.jsonl > reference.jsonl
//   input lines:  tokalign compile --format jsonl --with-segments output, of which only
//                 "segments": [[kind, text], ...] is read (the rendered prompt, tagged)
//   output lines: {"input_ids": [...]}
//
// Reference, per prompt:
//   * split at image segments into text chunks; encode each chunk with the HF core
//     (special tokens added unless --no-add-special); keep the first chunk's leading
//     post-processor tokens (BOS) once, drop them from later chunks; one -200 per image.
//     This is LLaVA's tokenizer_image_token (mm_utils.py) with the fast tokenizer.
//   * a prompt whose message text holds no special-token string is encoded as it is by the
//     unmodified tokenizer (HF's plain whole-string encoding);
//   * otherwise special tokens count as control tokens only where the template wrote them
//     (kinds "scaffolding" and "end_of_turn"); typed in a message they are text. HF has no
//     per-range switch, so the script renames every special added token to a private
//     placeholder (U+FDD0...U+FDD1) in a copy of tokenizer.json, writes the placeholder for
//     each special token found (leftmost-longest) inside scaffolding text, and maps the ids
//     of the renamed tokens back through their content.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { Tokenizer } = require("tokenizers");

function die(msg, code = 2) {
  process.stderr.write(`hf_prompt_ids.js: ${msg}\n`);
  process.exit(code);
}

const args = process.argv.slice(2);
let tokPath = null;
let addSpecial = true;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--tokenizer") tokPath = args[++i];
  else if (args[i] === "--no-add-special") addSpecial = false;
  else die(`unknown argument ${args[i]}`);
}
if (!tokPath) die("--tokenizer is required");

const orig = Tokenizer.fromFile(tokPath);
const json = JSON.parse(fs.readFileSync(tokPath, "utf8"));
const specials = []; // {content, placeholder}
json.added_tokens = (json.added_tokens || []).map((t, i) => {
  if (!t.special) return t;
  const placeholder = `\uFDD0tokalign-special-${i}\uFDD1`;
  specials.push({ content: t.content, placeholder });
  return { ...t, content: placeholder };
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hf_prompt_ids-"));
fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(json));
const renamed = Tokenizer.fromFile(path.join(dir, "tokenizer.json"));
fs.rmSync(dir, { recursive: true, force: true });
const byPlaceholder = new Map(specials.map((s) => [s.placeholder, s.content]));

function origId(id) {
  const t = renamed.idToToken(id);
  const content = byPlaceholder.has(t) ? byPlaceholder.get(t) : t;
  const o = orig.tokenToId(content);
  if (o === null || o === undefined) die(`cannot map id ${id} (${JSON.stringify(t)}) back`, 3);
  return o;
}

// Special tokens inside template text become placeholders, leftmost-longest.
function markSpecials(text) {
  let out = "";
  for (let i = 0; i < text.length; ) {
    let best = null;
    for (const s of specials)
      if (s.content && text.startsWith(s.content, i) && (!best || s.content.length > best.content.length)) best = s;
    if (best) {
      out += best.placeholder;
      i += best.content.length;
    } else {
      out += text[i++];
    }
  }
  return out;
}

async function main() {
  const lines = fs.readFileSync(0, "utf8").split("\n").filter((l) => l.length);
  const out = [];
  for (const [n, line] of lines.entries()) {
    const rec = JSON.parse(line);
    if (!Array.isArray(rec.segments)) die(`line ${n + 1}: no "segments" (compile with --with-segments)`);
    // When no message text holds a special-token string, the prompt goes to the unmodified
    // tokenizer as is: plain HF whole-string encoding. Otherwise the renamed copy is used.
    const inContent = rec.segments.some(([kind, text]) =>
      kind !== "scaffolding" && kind !== "end_of_turn" && kind !== "image" && specials.some((s) => s.content && text.includes(s.content)));
    const tok = inContent ? renamed : orig;
    const chunks = [""];
    for (const [kind, text] of rec.segments) {
      if (kind === "image") chunks.push("");
      else chunks[chunks.length - 1] += inContent && (kind === "scaffolding" || kind === "end_of_turn") ? markSpecials(text) : text;
    }
    const ids = [];
    let lead = 0;
    for (let k = 0; k < chunks.length; k++) {
      const e = await tok.encode(chunks[k], null, { addSpecialTokens: addSpecial });
      const cids = e.getIds();
      const mask = e.getSpecialTokensMask();
      let n0 = 0;
      while (n0 < cids.length && mask[n0]) n0++;
      let skip = 0;
      if (k === 0) lead = n0;
      else skip = Math.min(lead, n0);
      for (let j = skip; j < cids.length; j++) ids.push(inContent ? origId(cids[j]) : cids[j]);
      if (k + 1 < chunks.length) ids.push(-200);
    }
    out.push(JSON.stringify({ input_ids: ids }));
  }
  process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
}

main().catch((e) => die(String(e && e.stack ? e.stack : e), 3));
