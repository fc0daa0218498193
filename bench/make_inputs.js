// Builds the benchmark inputs as JSONL ({"text": ...} lines of about 10 kB, cut at line
// breaks) from the public-domain novels in ../shared/data/text, plus a 100 kB run that no
// pre-tokenizer can split. Usage: node bench/make_inputs.js OUT_DIR
"use strict";
const fs = require("fs");
const path = require("path");

const out = process.argv[2];
if (!out) {
  console.error("usage: node bench/make_inputs.js OUT_DIR");
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });
const shared = path.join(__dirname, "..", "..", "shared", "data", "text");

function chunks(text, size) {
  const lines = text.split(/(?<=\n)/);
  const res = [];
  let cur = "";
  for (const l of lines) {
    cur += l;
    if (Buffer.byteLength(cur) >= size) {
      res.push(cur);
      cur = "";
    }
  }
  if (cur) res.push(cur);
  return res;
}

function write(name, texts) {
  fs.writeFileSync(path.join(out, name), texts.map((t) => JSON.stringify({ text: t })).join("\n") + "\n");
}

for (const [name, file] of [["english", "pride_and_prejudice.txt"], ["japanese", "wagahai.txt"]]) {
  const p = path.join(shared, file);
  if (!fs.existsSync(p)) {
    console.error(`make_inputs: ${p} is absent; skipping ${name}`);
    continue;
  }
  write(`${name}.jsonl`, chunks(fs.readFileSync(p, "utf8"), 10000));
}
// 100 kB without a space or a script change: one pre-token for every tokenizer.
write("unsplittable.jsonl", ["ab".repeat(50000)]);
write("unsplittable_200k.jsonl", ["ab".repeat(100000)]);
