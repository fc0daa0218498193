#!/usr/bin/env node
// Rendering parity with LLaVA's own Conversation.get_prompt(): compares the sha256 of the
// prompt tokalign renders (segments of `compile --format jsonl --with-segments`) with the
// hashes in tests/compile/llava_prompts.tsv, which LLaVA's and LLaVA-NeXT's code produced on
// the device machine (tests/compile/device/llava_oracle.py).
//   node llava_prompts.js --bin TOKALIGN --tokenizer T --data A.json --data B.jsonl --work DIR
// Samples tokalign quarantines are reported, not compared (LLaVA renders them anyway and then
// miscounts). Known deviations, each explained, are in llava_prompt_deviations.txt.
"use strict";
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const { execFileSync } = require("child_process");

const args = process.argv.slice(2);
const get = (k) => args.filter((_, i) => args[i - 1] === k);
const bin = get("--bin")[0], tok = get("--tokenizer")[0], work = get("--work")[0], data = get("--data");
const here = __dirname;
const expected = new Map(); // "impl template" -> Map(id -> hash)
for (const line of fs.readFileSync(path.join(here, "llava_prompts.tsv"), "utf8").split("\n")) {
  if (!line || line.startsWith("#")) continue;
  const [impl, template, id, hash] = line.split("\t");
  const k = `${impl} ${template}`;
  if (!expected.has(k)) expected.set(k, new Map());
  expected.get(k).set(id, hash);
}
const deviations = new Set();
for (const line of fs.readFileSync(path.join(here, "llava_prompt_deviations.txt"), "utf8").split("\n")) {
  const t = line.replace(/#.*/, "").trim();
  if (t) deviations.add(t.split(/\s+/).slice(0, 3).join(" "));
}
fs.mkdirSync(work, { recursive: true });
const rendered = new Map(); // template -> Map(id -> hash)
let failures = 0, compared = 0, skipped = 0, deviated = 0;
for (const [k, want] of expected) {
  const [impl, template] = k.split(" ");
  // Each implementation with its own placement rule for <image>.
  const placement = impl === "llava-next" ? "llava-next" : "llava";
  const key = `${template} ${placement}`;
  if (!rendered.has(key)) {
    const m = new Map();
    for (const d of data) {
      const out = path.join(work, "render.jsonl");
      execFileSync(bin, ["compile", "--data", d, "--tokenizer", tok, "--template", template, "--format", "jsonl",
        "--image-placement", placement, "--with-segments", "--out", out,
        "--quarantine", path.join(work, "render.quarantine.jsonl")], { stdio: ["ignore", "ignore", "ignore"] });
      for (const l of fs.readFileSync(out, "utf8").split("\n").filter(Boolean)) {
        const o = JSON.parse(l);
        m.set(o.id, crypto.createHash("sha256").update(o.segments.map((s) => s[1]).join("")).digest("hex").slice(0, 16));
      }
    }
    rendered.set(key, m);
  }
  const got = rendered.get(key);
  for (const [id, hash] of want) {
    if (!got.has(id)) { skipped++; continue; }
    if (got.get(id) === hash) { compared++; continue; }
    if (deviations.has(`${impl} ${template} ${id}`) || deviations.has(`${impl} ${template} *`) || deviations.has(`${impl} * ${id}`)) { deviated++; continue; }
    failures++;
    if (failures <= 10) console.log(`FAIL ${impl} ${template} ${id}: rendered prompt differs from LLaVA's get_prompt()`);
  }
}
console.log(`rendered prompts equal to LLaVA's get_prompt(): ${compared}; known deviations: ${deviated}; quarantined by tokalign: ${skipped}; different: ${failures}`);
process.exit(failures ? 1 : 0);
