#!/usr/bin/env node
// Builds the compile test dataset from LLaVA's own samples in ../shared/data/llava-samples/:
//   * coco2014_val_gpt4_qa_30x3.jsonl: the three questions about each image become one
//     three-round conversation (LLaVA-Instruct style), <image> before or after the first
//     question, alternating;
//   * qa90_questions.jsonl + qa90_gpt4_answer.jsonl: 90 single-round samples, every third one
//     text-only (no image), every fifth in the OpenAI "messages" format with content parts.
// Output: LLaVA JSON (a list) on stdout. Deterministic.
"use strict";
const fs = require("fs");
const path = require("path");

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: make_dataset.js SHARED_DATA/llava-samples > dataset.json\n");
  process.exit(2);
}
const read = (f) =>
  fs.readFileSync(path.join(dir, f), "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));

const out = [];
const byImage = new Map();
for (const r of read("coco2014_val_gpt4_qa_30x3.jsonl")) {
  if (!byImage.has(r.image)) byImage.set(r.image, []);
  byImage.get(r.image).push(r);
}
let n = 0;
for (const [image, rows] of byImage) {
  const conversations = [];
  rows.forEach((r, i) => {
    let q = r.instruction;
    if (i === 0) q = n % 2 === 0 ? `<image>\n${q}` : `${q}\n<image>`;
    conversations.push({ from: "human", value: q }, { from: "gpt", value: r.output });
  });
  out.push({ id: `coco-${rows[0].id}`, image, conversations });
  n++;
}
const questions = read("qa90_questions.jsonl");
const answers = new Map(read("qa90_gpt4_answer.jsonl").map((a) => [a.question_id, a.text]));
for (const q of questions) {
  const a = answers.get(q.question_id);
  const id = `qa90-${q.question_id}`;
  const withImage = q.question_id % 3 !== 0;
  if (q.question_id % 5 === 0) {
    const content = withImage ? [{ type: "image", image: q.image }, { type: "text", text: q.text }] : q.text;
    out.push({ id, messages: [{ role: "user", content }, { role: "assistant", content: a }] });
  } else if (withImage) {
    out.push({ id, image: q.image, conversations: [{ from: "human", value: `<image>\n${q.text}` }, { from: "gpt", value: a }] });
  } else {
    out.push({ id, conversations: [{ from: "human", value: q.text }, { from: "gpt", value: a }] });
  }
}
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
