#!/usr/bin/env node
// Checks one `tokalign compile --format jsonl --with-segments` run against the real thing:
//   node tests/compile/check.js --tokenizer T --template NAME --data DATA --out OUT
//        --quarantine Q --reference REF [--allow REASON,...]
//   * nothing lost: every input record is in OUT or in Q, none twice, order kept;
//   * records carrying "expect" (tests/compile/adversarial.jsonl) end where they say:
//     "ok", a quarantine reason, or {"default": ..., TEMPLATE: ...};
//     records without it must compile (unless their reason is in --allow);
//   * ids equal REF (oracle/hf_prompt_ids.js: Hugging Face tokenizers on the rendered prompt);
//   * labels, checked with HF's own decoder: the trained tokens decode to the assistant
//     messages and their end-of-turn strings, in order (whitespace ignored, since decoders
//     differ on it), and nothing else; labels are -100 or equal to the id; images are -200
//     with label -100.
"use strict";
const fs = require("fs");
const path = require("path");
const { Tokenizer } = require(path.join(__dirname, "../../oracle/node_modules/tokenizers"));

const a = {};
for (let i = 2; i < process.argv.length; i += 2) a[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
for (const k of ["tokenizer", "template", "data", "out", "quarantine", "reference"])
  if (!a[k]) { console.error(`check.js: --${k} is required`); process.exit(2); }
const allow = new Set((a.allow || "").split(",").filter(Boolean));

const jsonl = (f) => fs.readFileSync(f, "utf8").split("\n").filter((l) => l.trim());
const failures = [];
const fail = (m) => { if (failures.length < 20) failures.push(m); else if (failures.length === 20) failures.push("..."); };

// Input records: a JSON list or JSONL; a line that does not parse is one record.
const raw = fs.readFileSync(a.data, "utf8");
let records;
if (raw.trimStart().startsWith("[")) records = JSON.parse(raw);
else records = raw.split("\n").filter((l) => l.trim()).map((l) => { try { return JSON.parse(l); } catch { return { expect: "malformed_json" }; } });
const out = jsonl(a.out).map((l) => JSON.parse(l));
const quar = jsonl(a.quarantine).map((l) => JSON.parse(l));
const ref = jsonl(a.reference).map((l) => JSON.parse(l));

// Nothing lost, order kept.
const byIndex = new Map();
quar.forEach((q) => byIndex.set(q.index, q));
if (out.length + quar.length !== records.length)
  fail(`${records.length} records in, ${out.length} out + ${quar.length} quarantined`);
let oi = 0;
records.forEach((r, i) => {
  let want = r && r.expect !== undefined ? r.expect : "ok";
  if (want && typeof want === "object") want = want[a.template] || want.default;
  const q = byIndex.get(i);
  if (q) {
    if (want === "ok" && !allow.has(q.reason)) fail(`record ${i} (${q.id}): quarantined as ${q.reason}: ${q.message}`);
    else if (want !== "ok" && q.reason !== want) fail(`record ${i} (${q.id}): quarantined as ${q.reason}, expected ${want}`);
  } else {
    const o = out[oi++];
    const id = r && r.id !== undefined ? String(r.id) : `#${i}`;
    if (!o || o.id !== id) fail(`record ${i}: expected output id ${id}, found ${o && o.id}`);
    if (want !== "ok") fail(`record ${i} (${id}): compiled, expected quarantine as ${want}`);
  }
});
if (ref.length !== out.length) fail(`${out.length} samples but ${ref.length} reference lines`);

(async () => {
  const tok = Tokenizer.fromFile(a.tokenizer);
  let idsSame = 0, labelsOk = 0;
  for (let s = 0; s < out.length; s++) {
    const o = out[s];
    const r = ref[s] ? ref[s].input_ids : null;
    if (r && JSON.stringify(r) === JSON.stringify(o.input_ids)) idsSame++;
    else {
      let k = 0;
      while (r && k < r.length && r[k] === o.input_ids[k]) k++;
      fail(`${o.id}: ids differ from Hugging Face at position ${k}: ours ${JSON.stringify(o.input_ids.slice(k, k + 5))}, HF ${JSON.stringify(r && r.slice(k, k + 5))}`);
      continue;
    }
    let bad = o.labels.length !== o.input_ids.length;
    const trained = [];
    o.input_ids.forEach((id, i) => {
      const l = o.labels[i];
      if (id === -200) { if (l !== -100) bad = true; return; }
      if (l !== -100 && l !== id) bad = true;
      if (l !== -100) trained.push(id);
    });
    if (o.input_ids.filter((x) => x === -200).length !== o.images.length) bad = true;
    // Assistant text and the end-of-turn that closes it (user turns' end-of-turn is not trained).
    let want = "";
    let inAssistant = false;
    for (const [kind, text] of o.segments) {
      if (kind === "assistant") { want += text; inAssistant = true; }
      else if (kind === "end_of_turn") { if (inAssistant) want += text; inAssistant = false; }
      else if (kind !== "scaffolding") inAssistant = false;
    }
    const got = await tok.decode(trained, false);
    const squash = (x) => x.replace(/[\s\u2581]+/g, "");
    if (bad || squash(got) !== squash(want)) {
      fail(`${o.id}: trained tokens decode to ${JSON.stringify(got.slice(0, 200))}, expected ${JSON.stringify(want.slice(0, 200))}`);
      continue;
    }
    labelsOk++;
  }
  console.log(`${a.template}: ${records.length} in, ${out.length} out, ${quar.length} quarantined; ids equal to HF ${idsSame}/${out.length}; labels ok ${labelsOk}/${out.length}`);
  if (failures.length) {
    for (const f of failures) console.log("FAIL " + f);
    process.exit(1);
  }
})();
