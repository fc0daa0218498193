#!/usr/bin/env node
// Decode parity for one component fixture: the ids come from the real Hugging Face
// encoder (the corpus, special tokens added) plus the fixture's random id sequences;
// both HF and our binary decode them, with and without --skip-special, and the texts
// must be identical.
//
//   node tests/components/decode_check.js --bin PATH/tokalign --tokenizer FIXTURE/tokenizer.json
//        --corpus CORPUS.jsonl --extra FIXTURE/decode_extra.jsonl --work DIR [--name NAME] [--show N]
//
// HF's ids and texts are cached in DIR (key: sha256 of the tokenizer, corpus, extra ids,
// this script and oracle/package-lock.json). Prints up to N (default 5) mismatches per
// mode and one line "decode NAME: K/T identical". Exit 0 iff every text is identical;
// 1 on a mismatch or when our binary fails; 2 on bad usage.
"use strict";

const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const { spawnSync } = require("child_process");

const ROOT = path.resolve(__dirname, "../..");

function fail(msg) {
  process.stderr.write(`decode_check.js: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { bin: null, tokenizer: null, corpus: null, extra: null, work: null, name: "", show: 5 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => (i + 1 < argv.length ? argv[++i] : fail(`${a} needs a value`));
    if (a === "--bin") o.bin = val();
    else if (a === "--tokenizer") o.tokenizer = val();
    else if (a === "--corpus") o.corpus = val();
    else if (a === "--extra") o.extra = val();
    else if (a === "--work") o.work = val();
    else if (a === "--name") o.name = val();
    else if (a === "--show") o.show = parseInt(val(), 10) || 0;
    else fail(`unknown argument: ${a}`);
  }
  if (!o.bin || !o.tokenizer || !o.corpus || !o.work) fail("--bin, --tokenizer, --corpus and --work are required");
  return o;
}

const readLines = (p) => fs.readFileSync(p, "utf8").split("\n").filter((l, i, a) => !(i === a.length - 1 && l === ""));

function sha(...parts) {
  const h = crypto.createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex");
}

async function hfReference(o, key) {
  const file = path.join(o.work, `${key}.json`);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8"));
  const { Tokenizer } = require(path.join(ROOT, "oracle/node_modules/tokenizers"));
  const tok = Tokenizer.fromFile(o.tokenizer);
  const texts = readLines(o.corpus).map((l) => JSON.parse(l).text);
  const ids = [];
  for (let i = 0; i < texts.length; i += 64) {
    const encs = await tok.encodeBatch(texts.slice(i, i + 64), { addSpecialTokens: true });
    for (const e of encs) ids.push(e.getIds());
  }
  if (o.extra) for (const l of readLines(o.extra)) ids.push(JSON.parse(l).ids);
  const ref = { ids, texts: {} };
  for (const skip of [false, true]) {
    const out = [];
    for (let i = 0; i < ids.length; i += 64) out.push(...(await tok.decodeBatch(ids.slice(i, i + 64), skip)));
    ref.texts[skip ? "skip" : "keep"] = out;
  }
  fs.mkdirSync(o.work, { recursive: true });
  const tmp = `${file}.${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(ref));
  fs.renameSync(tmp, file);
  return ref;
}

function excerpt(s, n = 80) {
  const cps = Array.from(s);
  return JSON.stringify(cps.slice(0, n).join("")) + (cps.length > n ? `… (${cps.length} chars)` : "");
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const lock = path.join(ROOT, "oracle/package-lock.json");
  const key = sha(
    fs.readFileSync(o.tokenizer), fs.readFileSync(o.corpus), o.extra ? fs.readFileSync(o.extra) : "",
    fs.readFileSync(__filename), fs.existsSync(lock) ? fs.readFileSync(lock) : "none");
  const ref = await hfReference(o, key);
  const input = ref.ids.map((ids) => JSON.stringify({ ids })).join("\n") + "\n";
  let identical = 0, total = 0, failed = false;
  for (const mode of ["keep", "skip"]) {
    const args = ["decode", "--tokenizer", o.tokenizer, "--jsonl"];
    if (mode === "skip") args.push("--skip-special");
    const r = spawnSync(o.bin, args, { input, maxBuffer: 256 << 20 });
    const expected = ref.texts[mode];
    total += expected.length;
    if (r.status !== 0) {
      process.stdout.write(`  decode (${mode} special): our binary exited with status ${r.status}: ` +
        `${String(r.stderr).trim().split("\n").slice(-3).join(" | ")}\n`);
      failed = true;
      continue;
    }
    const ours = r.stdout.toString("utf8").split("\n");
    if (ours.length && ours[ours.length - 1] === "") ours.pop();
    if (ours.length !== expected.length) {
      process.stdout.write(`  decode (${mode} special): ${ours.length} output lines for ${expected.length} inputs\n`);
      failed = true;
    }
    let shown = 0, bad = 0;
    for (let i = 0; i < expected.length; i++) {
      let got;
      try { got = JSON.parse(ours[i]).text; } catch (_) { got = undefined; }
      if (got === expected[i]) { identical++; continue; }
      bad++;
      if (shown++ < o.show) {
        process.stdout.write(`  decode (${mode} special) input ${i + 1}: ids ${JSON.stringify(ref.ids[i].slice(0, 40))}` +
          `${ref.ids[i].length > 40 ? `… (${ref.ids[i].length} ids)` : ""}\n`);
        if (got === undefined) {
          process.stdout.write(`    hf:   ${excerpt(expected[i])}\n    ours: (no text)\n`);
        } else {
          // Context around the first differing char.
          const E = Array.from(expected[i]), A = Array.from(got);
          let d = 0;
          while (d < E.length && d < A.length && E[d] === A[d]) d++;
          const lo = Math.max(0, d - 30);
          const cut = (X) => (lo > 0 ? "…" : "") + JSON.stringify(X.slice(lo, d + 40).join("")) + (d + 40 < X.length ? "…" : "");
          process.stdout.write(`    first difference at char ${d} (hf ${E.length} chars, ours ${A.length})\n`);
          process.stdout.write(`    hf:   ${cut(E)}\n    ours: ${cut(A)}\n`);
        }
      }
    }
    if (bad > o.show) process.stdout.write(`  … and ${bad - o.show} more mismatching decodes (${mode} special)\n`);
  }
  process.stdout.write(`decode ${o.name || o.tokenizer}: ${identical}/${total} identical\n`);
  process.exit(!failed && identical === total ? 0 : 1);
}

main().catch((e) => {
  process.stderr.write(`decode_check.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(2);
});
