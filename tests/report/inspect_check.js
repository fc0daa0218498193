#!/usr/bin/env node
// Checks `tokalign inspect --json` against `tokalign compile --format jsonl --with-segments`
// on the same data and options:
//   node inspect_check.js COMPILED.jsonl INSPECT.jsonl
//   * the same samples, ids and labels (the label column is the compiler's labels);
//   * every token's [start, end) cuts exactly its text out of the rendered prompt;
//   * its segment, role and turn are those of a segment it overlaps (the provenance column),
//     added tokens (BOS) cover nothing, image tokens sit on an <image> segment with label -100;
//   * trained tokens overlap assistant text or an assistant's end-of-turn (default labels).
"use strict";
const fs = require("fs");
const [compiledPath, inspectPath] = process.argv.slice(2);
const jsonl = (f) => fs.readFileSync(f, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
const compiled = new Map(jsonl(compiledPath).map((o) => [o.id, o]));
const inspected = jsonl(inspectPath);
const fails = [];
const fail = (m) => fails.length < 20 && fails.push(m);
let tokens = 0, samples = 0;
for (const s of inspected) {
  if (s.quarantine) { if (compiled.has(s.id)) fail(`${s.id}: inspect says quarantined, compile wrote it`); continue; }
  const c = compiled.get(s.id);
  if (!c) { fail(`${s.id}: not in the compile output`); continue; }
  samples++;
  if (JSON.stringify(s.tokens.map((t) => t.id)) !== JSON.stringify(c.input_ids)) fail(`${s.id}: ids differ`);
  if (JSON.stringify(s.tokens.map((t) => t.label)) !== JSON.stringify(c.labels)) fail(`${s.id}: labels differ`);
  // The rendered prompt as code points, and which segment each code point belongs to.
  const chars = [], segOf = [];
  c.segments.forEach(([kind, text, role, turn], k) => {
    for (const ch of Array.from(text)) { chars.push(ch); segOf.push(k); }
  });
  for (const t of s.tokens) {
    tokens++;
    const where = `${s.id} pos ${t.pos}`;
    if (t.segment === "added") {
      if (t.start !== t.end || t.label !== -100) fail(`${where}: an added token covers text or is trained`);
      continue;
    }
    if (chars.slice(t.start, t.end).join("") !== t.text) {
      fail(`${where}: text ${JSON.stringify(t.text)} is not prompt[${t.start},${t.end}) = ${JSON.stringify(chars.slice(t.start, t.end).join(""))}`);
      continue;
    }
    const overl = new Set();
    for (let i = t.start; i < t.end; i++) overl.add(segOf[i]);
    const segs = [...overl].map((k) => c.segments[k]);
    if (!segs.some(([kind, , role, turn]) => kind === t.segment && role === t.role && (turn < 0 ? t.turn === null : turn === t.turn)))
      fail(`${where}: provenance ${t.segment}/${t.role}/${t.turn} is not a segment it covers (${segs.map((x) => x[0] + "/" + x[2] + "/" + x[3]).join(", ")})`);
    if (t.segment === "image" && (t.id !== -200 || t.label !== -100)) fail(`${where}: image token ${t.id} label ${t.label}`);
    if (t.label !== -100 && !segs.some(([kind, , role]) => role === "assistant" && (kind === "assistant" || kind === "end_of_turn")))
      fail(`${where}: trained but covers no assistant text`);
  }
}
console.log(`inspect vs compile: ${samples} samples, ${tokens} tokens checked`);
if (samples === 0) fail("no samples compared");
for (const f of fails) console.log("FAIL " + f);
process.exit(fails.length ? 1 : 0);
