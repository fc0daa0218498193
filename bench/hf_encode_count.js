// The peer in the benchmark: Hugging Face tokenizers (npm tokenizers@0.23.2, the Rust core)
// encoding every {"text"} line of a JSONL file with encodeBatch; prints the token count.
// Run with RAYON_NUM_THREADS=1 for a single-thread figure.
"use strict";
const path = require("path");
const fs = require("fs");
const { Tokenizer } = require(path.join(__dirname, "..", "oracle", "node_modules", "tokenizers"));

async function main() {
  const [tokPath, input] = process.argv.slice(2);
  const tok = Tokenizer.fromFile(tokPath);
  const texts = fs.readFileSync(input, "utf8").split("\n").filter((l) => l).map((l) => JSON.parse(l).text);
  const encs = await tok.encodeBatch(texts, { addSpecialTokens: true });
  let n = 0;
  for (const e of encs) n += e.getIds().length;
  console.log(n);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
