#!/usr/bin/env node
// Narrows a failing component fixture (mostly the sweep_* ones) down to code points:
// encodes "a" + c + "a" for every code point c of the mismatching lines of sweep.jsonl
// (or of --cps) with HF and with our binary, and lists the code points whose ids or
// offsets differ, with their general category (as Node's ICU knows it) and, for the
// "Bytes" fixtures, the normalized text each side produced.
//
//   node tests/components/sweep_diff.js --fixtures BUILD_DIR/components/fixtures --name FIXTURE
//        [--bin PATH/tokalign] [--cps 0378,1C89,...] [--skip-cat Cn,Co] [--show N]
"use strict";

const fs = require("fs");
const path = require("path");
const { spawnSync } = require("child_process");

const ROOT = path.resolve(__dirname, "../..");

function parseArgs(argv) {
  const o = { fixtures: null, name: null, bin: path.join(ROOT, "build/tokalign"), cps: null, skip: [], show: 40 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i];
    if (a === "--fixtures") o.fixtures = val();
    else if (a === "--name") o.name = val();
    else if (a === "--bin") o.bin = val();
    else if (a === "--cps") o.cps = val().split(",").map((x) => parseInt(x, 16));
    else if (a === "--skip-cat") o.skip = val().split(",");
    else if (a === "--show") o.show = parseInt(val(), 10);
    else { process.stderr.write(`sweep_diff.js: unknown argument ${a}\n`); process.exit(2); }
  }
  if (!o.fixtures || !o.name) { process.stderr.write("sweep_diff.js: --fixtures and --name are required\n"); process.exit(2); }
  return o;
}

const CATS = ["Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po",
  "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"];
const catRe = CATS.map((c) => [c, new RegExp(`^\\p{gc=${c}}$`, "u")]);
const category = (c) => (catRe.find(([, re]) => re.test(String.fromCodePoint(c))) || ["?"])[0];
const hex = (c) => c.toString(16).toUpperCase().padStart(4, "0");

function encode(cmd, args, texts) {
  const input = texts.map((t) => JSON.stringify({ text: t })).join("\n") + "\n";
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${String(r.stderr).slice(0, 500)}`);
  return r.stdout.toString("utf8").split("\n").slice(0, texts.length);
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const tok = path.join(o.fixtures, o.name, "tokenizer.json");
  const hfArgs = [path.join(ROOT, "oracle/hf_encode.js"), "--tokenizer", tok, "--offsets", "--no-add-special"];
  const ourArgs = ["encode", "--tokenizer", tok, "--jsonl", "--offsets", "--no-add-special"];
  let cps = o.cps;
  if (!cps) {
    const lines = fs.readFileSync(path.join(o.fixtures, "sweep.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).text);
    const hf = encode(process.execPath, hfArgs, lines);
    const ours = encode(o.bin, ourArgs, lines);
    const set = new Set();
    lines.forEach((l, i) => { if (hf[i] !== ours[i]) for (const ch of l) set.add(ch.codePointAt(0)); });
    cps = [...set].sort((a, b) => a - b);
    process.stdout.write(`${o.name}: ${lines.filter((_, i) => hf[i] !== ours[i]).length}/${lines.length} sweep lines differ\n`);
  }
  const texts = cps.map((c) => `a${String.fromCodePoint(c)}a`);
  const hf = encode(process.execPath, hfArgs, texts);
  const ours = encode(o.bin, ourArgs, texts);
  // For BPE-over-bytes fixtures, spell the ids back as text.
  const json = JSON.parse(fs.readFileSync(tok, "utf8"));
  let spell = null;
  if (json.model.type === "BPE" && Object.keys(json.model.vocab).length === 256) {
    // GPT-2's bytes_to_unicode.
    const bs = [];
    for (let b = 33; b <= 126; b++) bs.push(b);
    for (let b = 161; b <= 172; b++) bs.push(b);
    for (let b = 174; b <= 255; b++) bs.push(b);
    const cs = bs.slice();
    let n = 0;
    for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
    const u2b = new Map(cs.map((c, k) => [String.fromCodePoint(c), bs[k]]));
    const id2tok = new Map(Object.entries(json.model.vocab).map(([t, id]) => [id, t]));
    spell = (ids) => JSON.stringify(Buffer.from(ids.map((id) => u2b.get(id2tok.get(id)))).toString("utf8"));
  }
  const show = (line) => {
    const r = JSON.parse(line);
    return spell ? `${spell(r.ids)} ${JSON.stringify(r.offsets)}` : JSON.stringify(r.offsets);
  };
  const diff = [];
  cps.forEach((c, i) => { if (hf[i] !== ours[i] && !o.skip.includes(category(c))) diff.push(i); });
  process.stdout.write(`${diff.length}/${cps.length} code points differ alone ("a" + c + "a")${o.skip.length ? `, skipping ${o.skip}` : ""}\n`);
  for (const i of diff.slice(0, o.show))
    process.stdout.write(`  U+${hex(cps[i])} ${category(cps[i])}: hf ${show(hf[i])} | ours ${show(ours[i])}\n`);
  if (diff.length > o.show) {
    const byCat = {};
    for (const i of diff) byCat[category(cps[i])] = (byCat[category(cps[i])] || 0) + 1;
    process.stdout.write(`  … categories: ${JSON.stringify(byCat)}\n`);
  }
  const ranges = [];
  for (const i of diff) {
    const c = cps[i];
    if (ranges.length && ranges[ranges.length - 1][1] === c - 1) ranges[ranges.length - 1][1] = c;
    else ranges.push([c, c]);
  }
  if (ranges.length)
    process.stdout.write(`  ranges: ${ranges.slice(0, 300).map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join(" ")}${ranges.length > 300 ? " …" : ""}\n`);
}

main();
