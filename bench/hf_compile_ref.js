// The reference in the compile benchmark: the least any Hugging Face-based preprocessing of
// a LLaVA dataset must do. Read the dataset, render each sample's prompt with the llava_v1
// (Vicuna v1) conversation template as LLaVA's Conversation.get_prompt() does, and encode it
// once with Hugging Face tokenizers (npm tokenizers@0.23.2, the Rust core), in batches of
// 1000 (encodeBatch: the fastest way the binding offers). No labels, no verification, no
// output: what it prints is the token count, to check both sides saw the same data.
// RAYON_NUM_THREADS=1 gives the one-core figure.
"use strict";
const path = require("path");
const fs = require("fs");
const { Tokenizer } = require(path.join(__dirname, "..", "oracle", "node_modules", "tokenizers"));

const SYSTEM =
  "A chat between a curious user and an artificial intelligence assistant. " +
  "The assistant gives helpful, detailed, and polite answers to the user's questions.";

function render(sample) {
  // conv_vicuna_v1: sep_style TWO, sep " ", sep2 "</s>", roles USER / ASSISTANT.
  let s = SYSTEM + " ";
  sample.conversations.forEach((m, i) => {
    const role = m.from === "human" ? "USER" : "ASSISTANT";
    s += role + ": " + m.value + (i % 2 === 0 ? " " : "</s>");
  });
  return s;
}

async function main() {
  const [tokPath, input] = process.argv.slice(2);
  const tok = Tokenizer.fromFile(tokPath);
  const text = fs.readFileSync(input, "utf8");
  const data = text.trimStart().startsWith("[") ? JSON.parse(text) : text.split("\n").filter((l) => l).map(JSON.parse);
  let n = 0;
  for (let i = 0; i < data.length; i += 1000) {
    const prompts = data.slice(i, i + 1000).map(render);
    const encs = await tok.encodeBatch(prompts, { addSpecialTokens: true });
    for (const e of encs) n += e.getIds().length;
  }
  console.log(n);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
