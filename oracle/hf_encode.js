#!/usr/bin/env node
// Test oracle: encodes (or decodes) JSONL with the real Hugging Face
// tokenizers core through its Node binding (npm "tokenizers", pinned in
// oracle/package.json).
//
// Usage:
//   node oracle/hf_encode.js --tokenizer PATH/tokenizer.json
//        [--no-add-special] [--no-parse-special] [--offsets]
//        < input.jsonl > output.jsonl
//     input lines  {"text": "..."}
//     output lines {"ids":[...]} (+ "offsets":[[s,e],...] with --offsets)
//
//   node oracle/hf_encode.js --tokenizer PATH/tokenizer.json --decode
//        [--skip-special] < ids.jsonl > text.jsonl
//     input lines  {"ids":[...]}
//     output lines {"text":"..."}
//
// One output line per input line, in input order. Offsets are the ones the
// Node binding returns: Unicode scalar value (char) offsets into the original
// text, NOT UTF-16 code unit and NOT byte offsets.
//
// Exit status: 0 on success, 2 on bad usage or bad input, 4 when HF refuses
// to load the tokenizer file.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { Tokenizer } = require("tokenizers");

function usage(msg) {
  if (msg) process.stderr.write(`hf_encode.js: ${msg}\n`);
  process.stderr.write(
    "usage: node oracle/hf_encode.js --tokenizer PATH [--no-add-special] " +
      "[--no-parse-special] [--offsets] < in.jsonl > out.jsonl\n" +
      "       node oracle/hf_encode.js --tokenizer PATH --decode [--skip-special] " +
      "< ids.jsonl > text.jsonl\n"
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    tokenizer: null,
    addSpecial: true,
    parseSpecial: true,
    offsets: false,
    decode: false,
    skipSpecial: false,
    batch: 64,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case "--tokenizer":
        if (i + 1 >= argv.length) usage("--tokenizer needs a path");
        o.tokenizer = argv[++i];
        break;
      case "--no-add-special": o.addSpecial = false; break;
      case "--no-parse-special": o.parseSpecial = false; break;
      case "--offsets": o.offsets = true; break;
      case "--decode": o.decode = true; break;
      case "--skip-special": o.skipSpecial = true; break;
      case "--batch":
        if (i + 1 >= argv.length) usage("--batch needs a number");
        o.batch = Math.max(1, parseInt(argv[++i], 10) || 1);
        break;
      case "-h": case "--help": usage(); break;
      default: usage(`unknown argument: ${a}`);
    }
  }
  if (!o.tokenizer) usage("--tokenizer is required");
  if (o.decode && (o.offsets || !o.parseSpecial || !o.addSpecial))
    usage("--decode takes only --skip-special");
  if (!o.decode && o.skipSpecial) usage("--skip-special needs --decode");
  return o;
}

// ---------------------------------------------------------------------------
// --no-parse-special
//
// HF's Rust core has `encode_special_tokens` (Python: tokenizer.encode_special_tokens
// = True; transformers: split_special_tokens=True). When it is set,
// AddedVocabulary::find_matches still runs the leftmost-longest Aho-Corasick
// scan over ALL added tokens, but `continue`s past every match whose content is
// a special token. So special tokens are never split out of the text; their
// characters reach the normalizer / pre-tokenizer / model as ordinary text.
// Non-special added tokens keep matching. Nothing else changes: the
// post-processor (BOS/EOS templates) carries its own ids, and decode is not
// involved. The Node binding does not expose the flag, so we emulate it by
// rewriting tokenizer.json so that special tokens can never be matched:
//
//  * A special added token whose content is in the MODEL vocab is dropped from
//    "added_tokens". Its id comes from the model anyway, and dropping it does
//    not renumber anything (see below).
//  * A special added token NOT in the model vocab is kept, at the same position,
//    but its content is replaced by a placeholder made of Unicode noncharacters
//    (U+FDD0 ... U+FDD1) that no test input contains, with normalized=false.
//    It must be kept: when HF loads tokenizer.json it does NOT take the ids
//    written in "added_tokens"; AddedVocabulary::add_tokens re-assigns them in
//    file order (model id if the content is in the model vocab, else
//    max(added id)+1 / model vocab size). Simply deleting those entries
//    (the obvious approach) shifts the ids of every later non-special added
//    token -- e.g. qwen3's <tool_call> 151657 -> 151643 and deepseek_v3's
//    <｜fim▁hole｜> 128800 -> 128000 -- which is wrong. selfCheckIds() below
//    verifies that every non-special added token keeps its id.
//
// Why this is equivalent to encode_special_tokens=true: both leave the set of
// *matched* added tokens = non-special tokens only, and both keep every id.
//
// The one edge case where it is NOT equivalent: a non-special added token that
// overlaps a special one in the text. HF's scan is leftmost-longest over all
// tokens and non-overlapping; a special match that is then skipped still
// consumes its span, so a non-special token starting inside it (or at the same
// position and shorter) is not matched by HF, while with the special token
// removed our scan does match it. Example: yi-1.5 has non-special added tokens
// "0".."9" and special "<|reserved003|>"; for the text "<|reserved003|>" real
// HF passes the whole string to the model, our emulation splits out "0","0","3".
// We warn on stderr for every input line where this can happen.
// ---------------------------------------------------------------------------

const PLACEHOLDER_OPEN = "\uFDD0";
const PLACEHOLDER_CLOSE = "\uFDD1";

function modelHasToken(model, content) {
  const v = model && model.vocab;
  if (!v) return false;
  if (Array.isArray(v)) {
    // Unigram: [[piece, score], ...]
    for (const e of v) if (Array.isArray(e) && e[0] === content) return true;
    return false;
  }
  return Object.prototype.hasOwnProperty.call(v, content);
}

function buildNoParseSpecialTokenizer(tokPath) {
  const json = JSON.parse(fs.readFileSync(tokPath, "utf8"));
  const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
  const specials = added.filter((t) => t.special);
  const nonSpecials = added.filter((t) => !t.special);
  const out = [];
  for (const t of added) {
    if (!t.special) { out.push(t); continue; }
    if (modelHasToken(json.model, t.content)) continue; // id comes from the model
    out.push({
      ...t,
      content: `${PLACEHOLDER_OPEN}tokalign-disabled-special-${t.id}${PLACEHOLDER_CLOSE}`,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
    });
  }
  json.added_tokens = out;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hf_encode-"));
  const tmp = path.join(dir, "tokenizer.json");
  fs.writeFileSync(tmp, JSON.stringify(json));
  let tok;
  try {
    tok = Tokenizer.fromFile(tmp);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // Overlap pairs (non-special N, special S) where N could be shadowed by S.
  // Conservative test: N occurs inside S, or a non-empty suffix of S is a
  // prefix of N. (N starting before S wins the leftmost scan in both cases.)
  const overlaps = [];
  for (const s of specials) {
    for (const n of nonSpecials) {
      let hit = s.content.includes(n.content);
      for (let k = 1; !hit && k < s.content.length; k++)
        if (n.content.startsWith(s.content.slice(k))) hit = true;
      if (hit) overlaps.push(s.content);
    }
  }
  return { tok, shadowing: [...new Set(overlaps)], nonSpecials };
}

function selfCheckIds(orig, mod, nonSpecials) {
  for (const t of nonSpecials) {
    const a = orig.tokenToId(t.content);
    const b = mod.tokenToId(t.content);
    if (a !== b) {
      process.stderr.write(
        `hf_encode.js: internal error: --no-parse-special rewrite changed id of ` +
          `${JSON.stringify(t.content)} (${a} -> ${b})\n`
      );
      process.exit(3);
    }
  }
}

// ---------------------------------------------------------------------------

function readStdinLines() {
  const buf = fs.readFileSync(0);
  const s = buf.toString("utf8");
  if (s.includes("\uFFFD") && !Buffer.from(s, "utf8").equals(buf)) {
    process.stderr.write("hf_encode.js: stdin is not valid UTF-8\n");
    process.exit(2);
  }
  const lines = s.split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function parseLine(line, lineno, key) {
  let obj;
  try {
    obj = JSON.parse(line);
  } catch (e) {
    process.stderr.write(`hf_encode.js: line ${lineno}: invalid JSON: ${e.message}\n`);
    process.exit(2);
  }
  if (obj === null || typeof obj !== "object" || !(key in obj)) {
    process.stderr.write(`hf_encode.js: line ${lineno}: expected an object with "${key}"\n`);
    process.exit(2);
  }
  const v = obj[key];
  if (key === "text") {
    if (typeof v !== "string") {
      process.stderr.write(`hf_encode.js: line ${lineno}: "text" must be a string\n`);
      process.exit(2);
    }
    if (LONE_SURROGATE.test(v)) {
      // Not representable in UTF-8; the binding would silently turn it into U+FFFD.
      process.stderr.write(`hf_encode.js: line ${lineno}: text contains a lone surrogate\n`);
      process.exit(2);
    }
  } else if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x >= 0)) {
    process.stderr.write(`hf_encode.js: line ${lineno}: "ids" must be an array of non-negative integers\n`);
    process.exit(2);
  }
  return v;
}

function writeOut(str) {
  return new Promise((resolve) => {
    if (process.stdout.write(str)) resolve();
    else process.stdout.once("drain", resolve);
  });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  let tok;
  try {
    tok = Tokenizer.fromFile(o.tokenizer);
  } catch (e) {
    process.stderr.write(`hf_encode.js: cannot load ${o.tokenizer}: ${e.message || e}\n`);
    process.exit(4);
  }
  let shadowing = [];
  if (!o.decode && !o.parseSpecial) {
    const r = buildNoParseSpecialTokenizer(o.tokenizer);
    selfCheckIds(tok, r.tok, r.nonSpecials);
    tok = r.tok;
    shadowing = r.shadowing;
  }

  const lines = readStdinLines();
  const key = o.decode ? "ids" : "text";
  const inputs = lines.map((l, i) => parseLine(l, i + 1, key));

  if (shadowing.length) {
    inputs.forEach((text, i) => {
      const s = shadowing.find((c) => text.includes(c));
      if (s !== undefined)
        process.stderr.write(
          `hf_encode.js: warning: line ${i + 1}: contains special token ${JSON.stringify(s)} ` +
            `overlapping a non-special added token; --no-parse-special emulation may differ from HF\n`
        );
    });
  }

  // Batches: at most o.batch lines and about 256 KiB of text per encodeBatch call.
  const MAX_CHARS = 256 * 1024;
  for (let i = 0; i < inputs.length; ) {
    let j = i, chars = 0;
    while (j < inputs.length && j - i < o.batch && (j === i || chars < MAX_CHARS)) {
      chars += inputs[j].length;
      j++;
    }
    const chunk = inputs.slice(i, j);
    let out = "";
    if (o.decode) {
      const texts = await tok.decodeBatch(chunk, o.skipSpecial);
      for (const t of texts) out += JSON.stringify({ text: t }) + "\n";
    } else {
      const encs = await tok.encodeBatch(chunk, { addSpecialTokens: o.addSpecial });
      for (const e of encs) {
        const rec = { ids: e.getIds() };
        if (o.offsets) rec.offsets = e.getOffsets();
        out += JSON.stringify(rec) + "\n";
      }
    }
    await writeOut(out);
    i = j;
  }
}

main().catch((e) => {
  process.stderr.write(`hf_encode.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
