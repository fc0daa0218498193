#!/usr/bin/env node
// Writes the long, generated lines of the parity corpus as JSONL
// ({"text": ...} per line) to the file named on the command line (or stdout
// when the argument is "-"). Output is fully deterministic: the only source
// of variation is a fixed-seed xorshift32 generator, so the same bytes come
// out on every machine and Node version.
//
//   node tests/corpus/make_long.js OUT_FILE
//
// Each case stresses something a tokenizer can get slow or wrong on long
// input: one huge pre-token (no spaces), a single repeated character, long
// digit runs, long CJK text, long whitespace runs, astral / byte-fallback runs.
"use strict";

const fs = require("fs");
const { rng } = require("../lib/xorshift.js");

function fromAlphabet(r, alphabet, n) {
  const a = Array.from(alphabet); // code points, not UTF-16 units
  let s = "";
  for (let i = 0; i < n; i++) s += a[r() % a.length];
  return s;
}

function words(r, n, vocab, seps) {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push(vocab[r() % vocab.length]);
    out.push(seps[r() % seps.length]);
  }
  return out.join("");
}

const cases = [];
const add = (name, text) => cases.push({ name, text });

// 1. 100 kB without any space: base64-like blob (letters, digits, + /).
{
  const r = rng(1);
  add("base64_100k", fromAlphabet(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 100000));
}
// 2. 100 kB run of one repeated character.
add("a_x100k", "a".repeat(100000));
// 3. 5000-digit run, pseudo-random digits.
{
  const r = rng(3);
  add("digits_5000", fromAlphabet(r, "0123456789", 5000));
}
// 4. ~50 kB of mixed CJK: kanji/hanzi, hiragana, katakana, hangul, CJK punctuation.
{
  const r = rng(4);
  const han = "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从";
  const kana = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンー";
  const hangul = "가나다라마바사아자차카타파하한국어대민서울입니다습";
  const punct = "、。，．「」『』（）！？";
  const parts = [];
  let bytes = 0;
  while (bytes < 50000) {
    const pick = r() % 10;
    const src = pick < 5 ? han : pick < 8 ? kana : pick < 9 ? hangul : punct;
    const len = 1 + (r() % 12);
    const s = fromAlphabet(r, src, len);
    parts.push(s);
    bytes += Buffer.byteLength(s, "utf8");
  }
  add("cjk_mixed_50k", parts.join(""));
}
// 5. Long whitespace runs.
add("spaces_10000", "x" + " ".repeat(10000) + "y");
add("spaces_only_4096", " ".repeat(4096));
add("tabs_5000", "\t".repeat(5000));
add("newlines_5000", "\n".repeat(5000));
add("crlf_2000", "a" + "\r\n".repeat(2000) + "b");
{
  const r = rng(5);
  add("mixed_ws_8000", fromAlphabet(r, " \t\n\r\u00a0\u3000", 8000));
}
add("ideographic_space_3000", "\u3000".repeat(3000));
// 6. Long prose-like line with spaces and punctuation (many short pre-tokens).
{
  const r = rng(6);
  const vocab = ("the of and to a in that is was he for it with as his on be at by had not are but from " +
    "or have an they which one you were her all she there would their we him been has when who will more no " +
    "if out so said what up its about into than them can only other new some could time these two may then do " +
    "first any my now such like our over man me even most made after also did many before must through back " +
    "Elizabeth Darcy Bingley Jane Bennet Netherfield Longbourn Pemberley It's don't I'm we've they'll she'd " +
    "1813 2024 3.14 42 100,000 e-mail co-operate naïve café").split(" ");
  add("prose_words_60k", words(r, 11000, vocab, [" ", " ", " ", " ", " ", ", ", ". ", "; ", "\n", "  ", " — ", "! "]));
}
// 7. Astral / byte-fallback runs and a long emoji run.
{
  const r = rng(7);
  const extB = [];
  for (let cp = 0x20000; cp < 0x20000 + 400; cp++) extB.push(String.fromCodePoint(cp));
  add("cjk_ext_b_5000", fromAlphabet(r, extB.join(""), 5000));
  add("emoji_5000", fromAlphabet(r, "😀😃😄😁😆😅🤣😂🙂🙃😉😊😇🥰😍🤩😘👍🏽❤️🇯🇵", 5000));
  add("pua_2000", fromAlphabet(r, "\ue000\ue001\uf8ff\u{f0000}\u{10fffd}", 2000));
}
// 8. One long repeated 2-char pattern and a long repeated word with spaces.
add("ab_x10000", "ab".repeat(10000));
add("hello_space_x3000", "hello ".repeat(3000));
// 9. Long indented code line block (Python), ~20 kB.
{
  const lines = [];
  for (let i = 0; i < 400; i++) {
    const ind = " ".repeat(4 * (i % 6));
    lines.push(`${ind}value_${i} = compute(x[${i}], y=${i * 7 % 13}) + 0x${(i * 2654435761 >>> 0).toString(16)}`);
  }
  add("python_block_20k", lines.join("\n") + "\n");
}

const out = cases.map((c) => JSON.stringify({ text: c.text })).join("\n") + "\n";
const dest = process.argv[2];
if (!dest) {
  process.stderr.write("usage: node tests/corpus/make_long.js OUT_FILE|-\n");
  process.exit(2);
}
if (dest === "-") process.stdout.write(out);
else fs.writeFileSync(dest, out);
if (process.env.MAKE_LONG_VERBOSE)
  for (const c of cases)
    process.stderr.write(`${c.name}\t${Buffer.byteLength(c.text, "utf8")} bytes\n`);
