#!/usr/bin/env node
// Generates the component-parity fixtures: small tokenizer.json files that exercise the
// pipeline components no real tokenizer in tests/parity/tokenizers.list uses (Unigram,
// WordPiece and WordLevel models; NFD/NFKC/NFKD, Lowercase, Strip, StripAccents,
// BertNormalizer, Replace-with-regex, Precompiled normalizers; Metaspace, Whitespace,
// WhitespaceSplit, BertPreTokenizer, Punctuation, Digits, CharDelimiterSplit, Split and
// ByteLevel pre-tokenizers; Bert/Roberta/ByteLevel/Template post-processors; WordPiece,
// Metaspace, BPEDecoder, CTC and Strip decoders; added tokens with single_word, lstrip,
// rstrip and normalized).
//
//   node tests/components/make_fixtures.js OUT_DIR
//
// Writes, under OUT_DIR:
//   corpus.jsonl             the test input: tests/corpus/corpus.jsonl,
//                            tests/components/inputs.jsonl and the generated long lines
//                            of tests/corpus/make_long.js cut to 4000 chars each
//   fixtures.list            one line per fixture: NAME<TAB>description
//   NAME/tokenizer.json      the tokenizer (saved by HF itself, so HF's loader validated
//                            it), except for fixtures HF is expected to refuse
//   NAME/decode_extra.jsonl  random id sequences ({"ids": [...]}) for the decode check
//   NAME/meta.json           {"name", "description", "hf_rejects"}
//
// Vocabularies are TRAINED with the real Hugging Face trainers (Tokenizer.train, the
// model's default trainer, run with the fixture's own normalizer and pre-tokenizer) on
// corpus.jsonl + inputs.jsonl + the first 200 KB of Pride and Prejudice and 20 KB of
// Wagahai wa Neko de Aru when ../shared/data/text/ has them. The trained models are then
// edited as JSON (special tokens, unk, prefixes, byte fallback, ...) and HF re-loads and
// re-saves each result. BPE models with end_of_word_suffix / continuing_subword_prefix,
// which the default trainer cannot make, come from a small BPE learner below. Everything
// is deterministic (fixed seeds; TOKENIZERS_PARALLELISM=false), and no id depends on the
// machine except through the presence of the shared/ texts.
"use strict";

process.env.TOKENIZERS_PARALLELISM = "false";
process.env.RAYON_NUM_THREADS = "1";

const fs = require("fs");
const os = require("os");
const path = require("path");

const ROOT = path.resolve(__dirname, "../..");
const { Tokenizer, byteLevelAlphabet } = require(path.join(ROOT, "oracle/node_modules/tokenizers"));

// ---------------------------------------------------------------------------
// Component builders (the JSON HF itself writes for each).

const N = {
  nfc: { type: "NFC" },
  nfd: { type: "NFD" },
  nfkc: { type: "NFKC" },
  nfkd: { type: "NFKD" },
  lower: { type: "Lowercase" },
  stripAccents: { type: "StripAccents" },
  strip: (l, r) => ({ type: "Strip", strip_left: l, strip_right: r }),
  bert: (o = {}) => ({ type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true, ...o }),
  replaceRe: (re, c) => ({ type: "Replace", pattern: { Regex: re }, content: c }),
  replaceStr: (s, c) => ({ type: "Replace", pattern: { String: s }, content: c }),
  prepend: (p) => ({ type: "Prepend", prepend: p }),
  precompiled: (b64) => ({ type: "Precompiled", precompiled_charsmap: b64 }),
  seq: (...n) => ({ type: "Sequence", normalizers: n }),
};
const P = {
  ws: { type: "Whitespace" },
  wss: { type: "WhitespaceSplit" },
  bert: { type: "BertPreTokenizer" },
  punct: (b) => ({ type: "Punctuation", behavior: b }),
  digits: (i) => ({ type: "Digits", individual_digits: i }),
  chr: (d) => ({ type: "CharDelimiterSplit", delimiter: d }),
  split: (pat, b, invert = false) => ({ type: "Split", pattern: pat, behavior: b, invert }),
  meta: (scheme, split, rep = "\u2581") => ({ type: "Metaspace", replacement: rep, prepend_scheme: scheme, split }),
  bl: (aps, re) => ({ type: "ByteLevel", add_prefix_space: aps, trim_offsets: true, use_regex: re }),
  seq: (...p) => ({ type: "Sequence", pretokenizers: p }),
};
const D = {
  wp: (prefix = "##", cleanup = true) => ({ type: "WordPiece", prefix, cleanup }),
  meta: (scheme, split, rep = "\u2581") => ({ type: "Metaspace", replacement: rep, prepend_scheme: scheme, split }),
  bpe: (suffix) => ({ type: "BPEDecoder", suffix }),
  ctc: (pad, delim, cleanup) => ({ type: "CTC", pad_token: pad, word_delimiter_token: delim, cleanup }),
  strip: (content, start, stop) => ({ type: "Strip", content, start, stop }),
  replaceStr: (s, c) => ({ type: "Replace", pattern: { String: s }, content: c }),
  byteLevel: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
  byteFallback: { type: "ByteFallback" },
  fuse: { type: "Fuse" },
  seq: (...d) => ({ type: "Sequence", decoders: d }),
};
// Post-processors take the final vocab lookup id(content).
const PP = {
  bert: (id) => ({ type: "BertProcessing", sep: ["[SEP]", id("[SEP]")], cls: ["[CLS]", id("[CLS]")] }),
  roberta: (trim, aps) => (id) => ({
    type: "RobertaProcessing", sep: ["</s>", id("</s>")], cls: ["<s>", id("<s>")], trim_offsets: trim, add_prefix_space: aps,
  }),
  byteLevel: (trim, aps) => () => ({ type: "ByteLevel", add_prefix_space: aps, trim_offsets: trim, use_regex: true }),
  // single: "[CLS] $A [SEP]"; groups: {"[LANG]": ["<en>", "<x>"]} for a special token with several ids.
  template: (single, pair, groups = {}) => (id) => {
    const piece = (w) => {
      const m = /^\$([AB])?(?::(\d+))?$/.exec(w);
      if (m) return { Sequence: { id: m[1] || "A", type_id: m[2] ? +m[2] : 0 } };
      const [name, tid] = w.split(":");
      return { SpecialToken: { id: name, type_id: tid ? +tid : 0 } };
    };
    const special_tokens = {};
    for (const w of `${single} ${pair}`.split(/\s+/)) {
      if (w.startsWith("$")) continue;
      const name = w.split(":")[0];
      const toks = groups[name] || [name];
      special_tokens[name] = { id: name, ids: toks.map(id), tokens: toks };
    }
    return {
      type: "TemplateProcessing",
      single: single.split(/\s+/).map(piece),
      pair: pair.split(/\s+/).map(piece),
      special_tokens,
    };
  },
};

// Added-token spec: [content, {special, single_word, lstrip, rstrip, normalized}]
const T = (content, o = {}) => ({
  content,
  special: !!o.special,
  single_word: !!o.single_word,
  lstrip: !!o.lstrip,
  rstrip: !!o.rstrip,
  normalized: o.normalized !== undefined ? o.normalized : !o.special,
});

// Special tokens put at the front of each model family's vocab (ids 0..k-1).
const SPECIALS = {
  WordPiece: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
  WordLevel: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
  Unigram: ["<unk>", "<s>", "</s>", "<pad>"],
  BPE: ["<s>", "<pad>", "</s>", "<unk>"],
  OwnBPE: ["<unk>", "<s>", "</s>", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<pad>"],
  Chars: ["<pad>", "<unk>", "<s>", "</s>", "|"],
};
const specialsAsAdded = (fam, o = {}) => SPECIALS[fam].map((c) => T(c, { special: true, ...(o[c] || {}) }));

// ---------------------------------------------------------------------------
// The fixtures.

const FIXTURES = [
  // --- WordPiece -------------------------------------------------------------
  {
    name: "wp_bert_uncased",
    desc: "WordPiece + BertNormalizer(default) + BertPreTokenizer + BertProcessing + WordPiece decoder; added: hello(single_word), <ent>(lstrip,rstrip,normalized=false), New York(normalized)",
    model: "WordPiece", normalizer: N.bert(), pre: P.bert, post: PP.bert, decoder: D.wp("##", true),
    added: [...specialsAsAdded("WordPiece"), T("hello", { single_word: true }), T("<ent>", { lstrip: true, rstrip: true, normalized: false }), T("New York")],
  },
  {
    name: "wp_bert_cased_nochinese",
    desc: "WordPiece + BertNormalizer(clean_text=false, handle_chinese_chars=false, lowercase=false) + BertPreTokenizer + Template [CLS] $A [SEP] + WordPiece decoder(cleanup=false); added: [MASK](special,lstrip), [NUM](special,single_word)",
    model: "WordPiece", normalizer: N.bert({ clean_text: false, handle_chinese_chars: false, lowercase: false }), pre: P.bert,
    post: PP.template("[CLS] $A [SEP]", "[CLS] $A [SEP] $B:1 [SEP]:1"), decoder: D.wp("##", false),
    added: [...specialsAsAdded("WordPiece", { "[MASK]": { lstrip: true } }), T("[NUM]", { special: true, single_word: true })],
  },
  {
    name: "wp_bert_stripacc_cased",
    desc: "WordPiece + BertNormalizer(lowercase=false, strip_accents=true) + Whitespace + BertProcessing; added: ça(normalized), [MASK](special,rstrip)",
    model: "WordPiece", normalizer: N.bert({ lowercase: false, strip_accents: true }), pre: P.ws, post: PP.bert, decoder: D.wp(),
    added: [...specialsAsAdded("WordPiece", { "[MASK]": { rstrip: true } }), T("ça")],
  },
  {
    name: "wp_bert_lower_keepacc_maxchars",
    desc: "WordPiece(max_input_chars_per_word=12) + BertNormalizer(lowercase=true, strip_accents=false) + WhitespaceSplit; added: HELLO(normalized=true, special=true)",
    model: "WordPiece", modelOpts: { max_input_chars_per_word: 12 }, normalizer: N.bert({ strip_accents: false }), pre: P.wss,
    post: PP.bert, decoder: D.wp(),
    added: [...specialsAsAdded("WordPiece"), T("HELLO", { special: true, normalized: true })],
  },
  {
    name: "wp_nfd_lower_stripacc_prefix",
    desc: "WordPiece(continuing_subword_prefix=@@) + Sequence[NFD, Lowercase, StripAccents] + Sequence[WhitespaceSplit, Punctuation(Isolated)] + Template with multi-id special [LANG] + WordPiece decoder(prefix=@@); added: ÇA(normalized), <|sep|>(special,rstrip)",
    model: "WordPiece", modelOpts: { continuing_subword_prefix: "@@" }, normalizer: N.seq(N.nfd, N.lower, N.stripAccents),
    pre: P.seq(P.wss, P.punct("Isolated")),
    post: PP.template("[CLS] [LANG] $A [SEP] [SEP]", "[CLS] $A [SEP] $B:1 [SEP]:1", { "[LANG]": ["[MASK]", "[PAD]", "[UNK]"] }),
    decoder: D.wp("@@", true),
    added: [...specialsAsAdded("WordPiece"), T("ÇA"), T("<|sep|>", { special: true, rstrip: true })],
  },
  {
    name: "wp_nfkc_whitespace",
    desc: "WordPiece + NFKC + Whitespace + no post-processor; added: ab(single_word), [MASK](special,lstrip,rstrip)",
    model: "WordPiece", normalizer: N.nfkc, pre: P.ws, post: null, decoder: D.wp(),
    added: [...specialsAsAdded("WordPiece", { "[MASK]": { lstrip: true, rstrip: true } }), T("ab", { single_word: true })],
  },
  {
    name: "wp_nfkd_strip_bertpre",
    desc: "WordPiece + Sequence[NFKD, Strip(both)] + BertPreTokenizer + BertProcessing; added: <ent>(single_word,lstrip,normalized=false)",
    model: "WordPiece", normalizer: N.seq(N.nfkd, N.strip(true, true)), pre: P.bert, post: PP.bert, decoder: D.wp(),
    added: [...specialsAsAdded("WordPiece"), T("<ent>", { single_word: true, lstrip: true, normalized: false })],
  },
  // --- WordLevel -------------------------------------------------------------
  {
    name: "wl_whitespace",
    desc: "WordLevel + Whitespace + Template [CLS] $A [SEP]",
    model: "WordLevel", normalizer: null, pre: P.ws, post: PP.template("[CLS] $A [SEP]", "[CLS] $A [SEP] $B:1 [SEP]:1"), decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  {
    name: "wl_lower_wsplit",
    desc: "WordLevel + Lowercase + WhitespaceSplit; added: New York(normalized), hello(single_word,normalized=false)",
    model: "WordLevel", normalizer: N.lower, pre: P.wss, post: null, decoder: null,
    added: [...specialsAsAdded("WordLevel"), T("New York"), T("hello", { single_word: true, normalized: false })],
  },
  ...["Isolated", "Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous"].map((b) => ({
    name: `wl_punct_${b.toLowerCase()}`,
    desc: `WordLevel + Sequence[WhitespaceSplit, Punctuation(${b})]`,
    model: "WordLevel", normalizer: null, pre: P.seq(P.wss, P.punct(b)), post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  })),
  {
    name: "wl_digits_individual",
    desc: "WordLevel + Sequence[WhitespaceSplit, Digits(individual_digits=true)]",
    model: "WordLevel", normalizer: null, pre: P.seq(P.wss, P.digits(true)), post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  {
    name: "wl_digits_grouped_chardelim",
    desc: "WordLevel + Sequence[CharDelimiterSplit(' '), Digits(individual_digits=false)]",
    model: "WordLevel", normalizer: null, pre: P.seq(P.chr(" "), P.digits(false)), post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  {
    name: "wl_chardelim_comma",
    desc: "WordLevel + CharDelimiterSplit(',') only",
    model: "WordLevel", normalizer: null, pre: P.chr(","), post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  {
    name: "wl_split_removed_regex",
    desc: "WordLevel + Split(Regex \\s+, Removed)",
    model: "WordLevel", normalizer: null, pre: P.split({ Regex: "\\s+" }, "Removed"), post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  {
    name: "wl_split_isolated_string",
    desc: "WordLevel + Split(String ' ', Isolated); added: <ent>(lstrip)",
    model: "WordLevel", normalizer: null, pre: P.split({ String: " " }, "Isolated"), post: null, decoder: null,
    added: [...specialsAsAdded("WordLevel"), T("<ent>", { lstrip: true, normalized: false })],
  },
  {
    name: "wl_split_mergedprev",
    desc: "WordLevel + Sequence[WhitespaceSplit, Split(Regex [.,!?;:], MergedWithPrevious)]",
    model: "WordLevel", normalizer: null, pre: P.seq(P.wss, P.split({ Regex: "[.,!?;:]" }, "MergedWithPrevious")), post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  {
    name: "wl_split_mergednext",
    desc: "WordLevel + Split(Regex \\s, MergedWithNext)",
    model: "WordLevel", normalizer: null, pre: P.split({ Regex: "\\s" }, "MergedWithNext"), post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  {
    name: "wl_split_contiguous",
    desc: "WordLevel + Sequence[WhitespaceSplit, Split(Regex \\p{P}, Contiguous)]",
    model: "WordLevel", normalizer: null, pre: P.seq(P.wss, P.split({ Regex: "\\p{P}" }, "Contiguous")), post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  {
    name: "wl_split_invert_isolated",
    desc: "WordLevel + Split(Regex \\p{L}+|\\p{N}+, Isolated, invert=true)",
    model: "WordLevel", normalizer: null, pre: P.split({ Regex: "\\p{L}+|\\p{N}+" }, "Isolated", true), post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  {
    name: "wl_split_regex_class_escapes",
    desc: "WordLevel + Split(Regex [\\p{L}\\d]+|[\\s\\S], Isolated): class escapes (also negated) inside [...]",
    model: "WordLevel", normalizer: null, pre: P.split({ Regex: "[\\p{L}\\d]+|[\\s\\S]" }, "Isolated"), post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  {
    name: "wl_split_regex_lookaround",
    desc: "WordLevel + Split(Regex (?<=[a-z])(?=[A-Z0-9])|\\bthe\\b|\\h+|\\p{^L}+, Isolated): lookaround, \\b, \\h, \\p{^L}",
    model: "WordLevel", normalizer: null, pre: P.split({ Regex: "(?<=[a-z])(?=[A-Z0-9])|\\bthe\\b|\\h+|\\p{^L}+" }, "Isolated"), post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  {
    name: "wl_split_regex_posix_classes",
    desc: "WordLevel + Split(Regex [[:punct:]]+|[[:alpha:]]+|[[:digit:]]+, Isolated): POSIX bracket classes",
    model: "WordLevel", normalizer: null, pre: P.split({ Regex: "[[:punct:]]+|[[:alpha:]]+|[[:digit:]]+" }, "Isolated"), post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  {
    name: "wl_split_regex_class_intersection",
    desc: "WordLevel + Sequence[WhitespaceSplit, Split(Regex [a-z&&[^aeiou]]+, Isolated)]: class intersection",
    model: "WordLevel", normalizer: null, pre: P.seq(P.wss, P.split({ Regex: "[a-z&&[^aeiou]]+" }, "Isolated")), post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  {
    name: "wl_replace_regex_empty_matches",
    desc: "WordLevel + Replace(Regex [,.]*, '|') (a pattern that also matches the empty string) + WhitespaceSplit",
    model: "WordLevel", normalizer: N.replaceRe("[,.]*", "|"), pre: P.wss, post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  {
    name: "wl_split_invert_removed",
    desc: "WordLevel + Split(Regex \\w+, Removed, invert=true)",
    model: "WordLevel", normalizer: null, pre: P.split({ Regex: "\\w+" }, "Removed", true), post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  {
    name: "wl_split_invert_mergedprev_str",
    desc: "WordLevel + Sequence[Split(String '.', MergedWithPrevious, invert=true), Split(String ' ', Contiguous, invert=true)]",
    model: "WordLevel", normalizer: null,
    pre: P.seq(P.split({ String: "." }, "MergedWithPrevious", true), P.split({ String: " " }, "Contiguous", true)), post: null, decoder: null,
    added: specialsAsAdded("WordLevel"),
  },
  // --- Unigram ---------------------------------------------------------------
  {
    name: "uni_meta_always_split",
    desc: "Unigram + Metaspace(always, split=true) + Template <s> $A </s> + Metaspace decoder; added: <mask>(special,lstrip), hello(single_word)",
    model: "Unigram", normalizer: null, pre: P.meta("always", true), post: PP.template("<s> $A </s>", "<s> $A </s> $B:1 </s>:1"),
    decoder: D.meta("always", true),
    added: [...specialsAsAdded("Unigram"), T("<mask>", { special: true, lstrip: true }), T("hello", { single_word: true })],
  },
  {
    name: "uni_meta_always_nosplit",
    desc: "Unigram + Metaspace(always, split=false) + Metaspace decoder(always, split=false); added: <|sep|>(special)",
    model: "Unigram", normalizer: null, pre: P.meta("always", false), post: null, decoder: D.meta("always", false),
    added: [...specialsAsAdded("Unigram"), T("<|sep|>", { special: true })],
  },
  {
    name: "uni_meta_first_split",
    desc: "Unigram + Metaspace(first, split=true) + Metaspace decoder(first); added: <|sep|>(special), <ent>(rstrip,normalized=false)",
    model: "Unigram", normalizer: null, pre: P.meta("first", true), post: PP.template("$A </s>", "$A </s> $B:1 </s>:1"),
    decoder: D.meta("first", true),
    added: [...specialsAsAdded("Unigram"), T("<|sep|>", { special: true }), T("<ent>", { rstrip: true, normalized: false })],
  },
  {
    name: "uni_meta_first_nosplit_rstrip",
    desc: "Unigram + Strip(right only) + Metaspace(first, split=false) + Metaspace decoder(first, split=false); added: <|sep|>(special,lstrip,rstrip)",
    model: "Unigram", normalizer: N.strip(false, true), pre: P.meta("first", false), post: null, decoder: D.meta("first", false),
    trainPre: P.meta("first", true),
    added: [...specialsAsAdded("Unigram"), T("<|sep|>", { special: true, lstrip: true, rstrip: true })],
  },
  {
    name: "uni_meta_never_split",
    desc: "Unigram + Metaspace(never, split=true) + Sequence[Metaspace decoder(never), Strip(' ', 0, 1)]",
    model: "Unigram", normalizer: null, pre: P.meta("never", true), post: null,
    decoder: D.seq(D.meta("never", true), D.strip(" ", 0, 1)),
    added: specialsAsAdded("Unigram"),
  },
  {
    name: "uni_meta_never_nosplit_underscore",
    desc: "Unigram + Metaspace(replacement '_', never, split=false) + Metaspace decoder('_', never)",
    model: "Unigram", normalizer: null, pre: P.meta("never", false, "_"), post: null, decoder: D.meta("never", false, "_"),
    added: specialsAsAdded("Unigram"),
  },
  {
    name: "uni_meta_legacy_add_prefix_space",
    desc: "Unigram + legacy Metaspace {replacement, add_prefix_space:true} (no prepend_scheme, no split) + legacy Metaspace decoder",
    model: "Unigram", normalizer: null, pre: { type: "Metaspace", replacement: "\u2581", add_prefix_space: true },
    post: null, decoder: { type: "Metaspace", replacement: "\u2581", add_prefix_space: true },
    added: specialsAsAdded("Unigram"),
  },
  {
    name: "uni_nfkc_strip_replace_regex",
    desc: "Unigram + Sequence[Strip(left only), Replace(Regex ' {2,}' -> ' '), NFKC, Lowercase] + Sequence[WhitespaceSplit, Metaspace(always)] + Sequence[Replace ▁->' ', Fuse, Strip(' ',1,0)]; added: New York(normalized)",
    model: "Unigram", normalizer: N.seq(N.strip(true, false), N.replaceRe(" {2,}", " "), N.nfkc, N.lower),
    pre: P.seq(P.wss, P.meta("always", true)), post: null,
    decoder: D.seq(D.replaceStr("\u2581", " "), D.fuse, D.strip(" ", 1, 0)),
    added: [...specialsAsAdded("Unigram"), T("New York")],
  },
  {
    name: "uni_bytefallback_llama_style",
    desc: "Unigram(byte_fallback=true) + Sequence[Prepend ▁, Replace ' '->▁] (no pre-tokenizer) + Sequence[Replace ▁->' ', ByteFallback, Fuse, Strip(' ',1,0)]",
    model: "Unigram", modelOpts: { byte_fallback: true }, normalizer: N.seq(N.prepend("\u2581"), N.replaceStr(" ", "\u2581")), pre: null,
    trainPre: P.meta("always", true),
    post: PP.template("<s> $A", "<s> $A <s> $B"), decoder: D.seq(D.replaceStr("\u2581", " "), D.byteFallback, D.fuse, D.strip(" ", 1, 0)),
    added: specialsAsAdded("Unigram"),
  },
  {
    name: "uni_nfd_replace_regex_digits",
    desc: "Unigram + Sequence[NFD, Replace(Regex \\p{Mn} -> ''), Replace(Regex [0-9] -> '#')] + Sequence[Digits(false), Metaspace(always)]",
    model: "Unigram", normalizer: N.seq(N.nfd, N.replaceRe("\\p{Mn}", ""), N.replaceRe("[0-9]", "#")),
    pre: P.seq(P.digits(false), P.meta("always", true)), post: null, decoder: D.meta("always", true),
    added: specialsAsAdded("Unigram"),
  },
  {
    name: "uni_precompiled_empty",
    desc: "Unigram + Precompiled with an empty precompiled_charsmap (\"\") + Metaspace: HF refuses to load it",
    model: "Unigram", normalizer: N.precompiled(""), trainNormalizer: null, pre: P.meta("always", true), post: null,
    decoder: D.meta("always", true), added: specialsAsAdded("Unigram"), hfRejects: true,
  },
  {
    name: "uni_meta_conflict_add_prefix_space",
    desc: "Unigram + Metaspace{prepend_scheme:first, add_prefix_space:false}: HF refuses (add_prefix_space does not match prepend_scheme)",
    model: "Unigram", normalizer: null, pre: { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: true, add_prefix_space: false },
    trainPre: P.meta("first", true), post: null, decoder: null, added: specialsAsAdded("Unigram"), hfRejects: true,
  },
  // --- BPE, byte-level (default HF BPE trainer) ---------------------------------
  {
    name: "bl_prefix_regex_bltrim",
    desc: "BPE + ByteLevel(add_prefix_space=true, use_regex=true) + ByteLevel post(trim_offsets=true, add_prefix_space=true) + ByteLevel decoder; added: <|endoftext|>(special), <ent>(lstrip,rstrip)",
    model: "BPE", normalizer: null, pre: P.bl(true, true), post: PP.byteLevel(true, true), decoder: D.byteLevel,
    added: [...specialsAsAdded("BPE"), T("<|endoftext|>", { special: true }), T("<ent>", { lstrip: true, rstrip: true, normalized: false })],
  },
  {
    name: "bl_roberta_noprefix",
    desc: "BPE + ByteLevel(add_prefix_space=false) + RobertaProcessing(trim_offsets=true, add_prefix_space=false); added: <mask>(special,lstrip)",
    model: "BPE", normalizer: null, pre: P.bl(false, true), post: PP.roberta(true, false), decoder: D.byteLevel,
    added: [...specialsAsAdded("BPE"), T("<mask>", { special: true, lstrip: true })],
  },
  {
    name: "bl_roberta_prefix",
    desc: "BPE + ByteLevel(add_prefix_space=true) + RobertaProcessing(trim_offsets=true, add_prefix_space=true); added: <mask>(special,lstrip), hello(single_word,normalized)",
    model: "BPE", normalizer: null, pre: P.bl(true, true), post: PP.roberta(true, true), decoder: D.byteLevel,
    added: [...specialsAsAdded("BPE"), T("<mask>", { special: true, lstrip: true }), T("hello", { single_word: true })],
  },
  {
    name: "bl_roberta_notrim",
    desc: "BPE + NFKC + ByteLevel(add_prefix_space=true) + RobertaProcessing(trim_offsets=false, add_prefix_space=true)",
    model: "BPE", normalizer: N.nfkc, pre: P.bl(true, true), post: PP.roberta(false, true), decoder: D.byteLevel,
    added: [...specialsAsAdded("BPE"), T("<mask>", { special: true, lstrip: true })],
  },
  {
    name: "bl_noregex_prefix_bltrim",
    desc: "BPE + Sequence[WhitespaceSplit, ByteLevel(add_prefix_space=true, use_regex=false)] + ByteLevel post(trim_offsets=true)",
    model: "BPE", normalizer: null, pre: P.seq(P.wss, P.bl(true, false)), post: PP.byteLevel(true, true), decoder: D.byteLevel,
    added: specialsAsAdded("BPE"),
  },
  {
    name: "bl_punct_noregex_noprefix_bltrim",
    desc: "BPE + Sequence[Split(Regex \\s+, MergedWithNext), ByteLevel(add_prefix_space=false, use_regex=false)] + ByteLevel post(trim_offsets=true, add_prefix_space=false)",
    model: "BPE", normalizer: null, pre: P.seq(P.split({ Regex: "\\s+" }, "MergedWithNext"), P.bl(false, false)),
    post: PP.byteLevel(true, false), decoder: D.byteLevel,
    added: specialsAsAdded("BPE"),
  },
  // --- BPE with suffix / prefix (own learner) --------------------------------
  {
    name: "bpe_suffix_bpedecoder",
    desc: "BPE(end_of_word_suffix=</w>, unk=<unk>, fuse_unk=false) + Lowercase + Whitespace + BPEDecoder(</w>) + Template <s> $A </s>",
    model: "OwnBPE", modelOpts: { end_of_word_suffix: "</w>", unk_token: "<unk>", fuse_unk: false },
    normalizer: N.lower, pre: P.ws, post: PP.template("<s> $A </s>", "<s> $A </s> $B:1 </s>:1"), decoder: D.bpe("</w>"),
    added: specialsAsAdded("OwnBPE"),
  },
  {
    name: "bpe_prefix_wpdecoder",
    desc: "BPE(continuing_subword_prefix=##, unk=[UNK], fuse_unk=true) + NFKC + BertPreTokenizer + BertProcessing + WordPiece decoder",
    model: "OwnBPE", modelOpts: { continuing_subword_prefix: "##", unk_token: "[UNK]", fuse_unk: true },
    normalizer: N.nfkc, pre: P.bert, post: PP.bert, decoder: D.wp("##", true),
    added: specialsAsAdded("OwnBPE"),
  },
  {
    name: "bpe_suffix_wsplit_fuse",
    desc: "BPE(end_of_word_suffix=</w>, unk=<unk>, fuse_unk=true) + WhitespaceSplit (so U+2581 stays inside words) + BPEDecoder(</w>)",
    model: "OwnBPE", modelOpts: { end_of_word_suffix: "</w>", unk_token: "<unk>", fuse_unk: true },
    normalizer: null, pre: P.wss, post: null, decoder: D.bpe("</w>"),
    added: specialsAsAdded("OwnBPE"),
  },
  // --- characters + CTC ------------------------------------------------------
  {
    name: "chars_ctc",
    desc: "WordLevel over characters (Lowercase, Replace ' '->'|', Split(Regex .|\\n, Isolated)) + CTC decoder(<pad>, |, cleanup=true)",
    model: "Chars", normalizer: N.seq(N.lower, N.replaceStr(" ", "|")), pre: P.split({ Regex: ".|\\n" }, "Isolated"),
    post: null, decoder: D.ctc("<pad>", "|", true),
    added: specialsAsAdded("Chars").filter((t) => t.content !== "|"),
  },
  {
    name: "chars_ctc_nocleanup",
    desc: "as chars_ctc, CTC decoder(cleanup=false)",
    model: "Chars", normalizer: N.seq(N.lower, N.replaceStr(" ", "|")), pre: P.split({ Regex: ".|\\n" }, "Isolated"),
    post: null, decoder: D.ctc("<pad>", "|", false),
    added: specialsAsAdded("Chars").filter((t) => t.content !== "|"),
  },
  // --- Unicode sweeps -----------------------------------------------------------
  // Checked on sweep.jsonl (every code point of planes 0-1, samples of the others, 64 per
  // line) without special tokens and without decode. "Bytes" fixtures are a BPE
  // over the 256 byte-level chars with no merges and no pre-tokenizer split, so the ids
  // spell the normalized text byte by byte; "UnkOnly" fixtures are a WordLevel whose every
  // word is [UNK], so the offsets show the pre-tokenizer's splits.
  ...[
    ["sweep_norm_bert", N.bert(), "BertNormalizer(default: clean_text, handle_chinese_chars, strip_accents=null, lowercase)"],
    ["sweep_norm_lowercase", N.lower, "Lowercase"],
    ["sweep_norm_nfd", N.nfd, "NFD"],
    ["sweep_norm_nfkc", N.nfkc, "NFKC"],
    ["sweep_norm_strip_accents", N.stripAccents, "StripAccents (alone)"],
    ["sweep_norm_replace_regex", N.seq(N.replaceRe("[\\p{M}\\p{Cf}]", ""), N.replaceRe("\\p{Zs}+", "_")), "Replace(Regex [\\p{M}\\p{Cf}] -> ''), Replace(Regex \\p{Zs}+ -> _)"],
  ].map(([name, normalizer, what]) => ({
    name, desc: `sweep: ${what}; ids = the normalized bytes`, sweep: true,
    model: "Bytes", normalizer, pre: P.bl(false, false), post: null, decoder: null, added: [],
  })),
  ...[
    ["sweep_pre_whitespace", P.ws, "Whitespace"],
    ["sweep_pre_whitespace_split", P.wss, "WhitespaceSplit"],
    ["sweep_pre_bert", P.bert, "BertPreTokenizer"],
    ["sweep_pre_punctuation", P.punct("Isolated"), "Punctuation(Isolated)"],
    ["sweep_pre_digits", P.digits(true), "Digits(individual_digits=true)"],
    ["sweep_pre_split_w", P.split({ Regex: "\\w+" }, "Isolated"), "Split(Regex \\w+, Isolated)"],
    ["sweep_pre_split_props", P.split({ Regex: "\\p{L}+|\\p{N}+|\\p{P}+|\\p{S}+" }, "Isolated"), "Split(Regex \\p{L}+|\\p{N}+|\\p{P}+|\\p{S}+, Isolated)"],
  ].map(([name, pre, what]) => ({
    name, desc: `sweep: ${what}; offsets = the splits`, sweep: true,
    model: "UnkOnly", normalizer: null, pre, post: null, decoder: null, added: [],
  })),
];

// ---------------------------------------------------------------------------

// JSON for one JSONL line: also escapes the characters line-oriented tools take for
// line breaks (U+0085, U+2028, U+2029) and U+FEFF.
function jsonLine(obj) {
  return JSON.stringify(obj).replace(/[\u0085\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

// Every code point of planes 0-1 and of U+E0000..U+E01FF, every 61st of the others and
// the last 256 of planes 15 and 16; no surrogates; 64 per line (about 2300 lines).
function buildSweep(outDir) {
  const cps = [];
  for (let c = 0; c <= 0x10ffff; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const dense = c < 0x20000 || (c >= 0xe0000 && c < 0xe0200) || (c >= 0xf0000 && (c & 0xffff) >= 0xff00);
    if (dense || c % 61 === 0) cps.push(c);
  }
  const lines = [];
  for (let i = 0; i < cps.length; i += 64) lines.push(jsonLine({ text: String.fromCodePoint(...cps.slice(i, i + 64)) }));
  fs.writeFileSync(path.join(outDir, "sweep.jsonl"), lines.join("\n") + "\n");
}

function readJsonlTexts(p) {
  return fs.readFileSync(p, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).text);
}

function buildCorpus(outDir) {
  const texts = [
    ...readJsonlTexts(path.join(ROOT, "tests/corpus/corpus.jsonl")),
    ...readJsonlTexts(path.join(__dirname, "inputs.jsonl")),
  ];
  const { execFileSync } = require("child_process");
  const long = execFileSync(process.execPath, [path.join(ROOT, "tests/corpus/make_long.js"), "-"], {
    maxBuffer: 64 << 20,
  }).toString("utf8");
  for (const l of long.split("\n").filter(Boolean)) {
    const cps = Array.from(JSON.parse(l).text);
    texts.push(cps.slice(0, 4000).join(""));
  }
  fs.writeFileSync(path.join(outDir, "corpus.jsonl"), texts.map((t) => jsonLine({ text: t })).join("\n") + "\n");
  return { texts, nLong: long.split("\n").filter(Boolean).length };
}

function buildTrainFile(outDir, corpusTexts, nLong) {
  let s = corpusTexts.slice(0, corpusTexts.length - nLong).join("\n") + "\n"; // not the generated long lines
  const shared = path.join(ROOT, "..", "shared", "data", "text");
  const pp = path.join(shared, "pride_and_prejudice.txt");
  const wg = path.join(shared, "wagahai.txt");
  if (fs.existsSync(pp)) s += fs.readFileSync(pp, "utf8").slice(0, 200000) + "\n";
  if (fs.existsSync(wg)) s += fs.readFileSync(wg, "utf8").slice(0, 20000) + "\n";
  const f = path.join(outDir, "_train.txt");
  fs.writeFileSync(f, s);
  return { file: f, text: s };
}

function emptyModel(type) {
  switch (type) {
    case "WordPiece":
      return { type, unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab: {} };
    case "WordLevel":
      return { type, vocab: {}, unk_token: "[UNK]" };
    case "Unigram":
      return { type, unk_id: null, vocab: [] };
    case "BPE":
      return { type, dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
        fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: {}, merges: [] };
  }
  throw new Error(`no empty model for ${type}`);
}

function skeleton(model, normalizer, pre) {
  return { version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer, pre_tokenizer: pre,
    post_processor: null, decoder: null, model };
}

const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "tokalign-components-"));
process.on("exit", () => fs.rmSync(tmpDir, { recursive: true, force: true }));

// Silences the trainer's progress output (it writes to stdout).
function quietly(f) {
  const w = process.stdout.write;
  process.stdout.write = () => true;
  try { return f(); } finally { process.stdout.write = w; }
}

const trainCache = new Map();
function trainHF(type, normalizer, pre, trainFile) {
  const key = JSON.stringify([type, normalizer, pre]);
  if (trainCache.has(key)) return JSON.parse(trainCache.get(key));
  const tok = Tokenizer.fromString(JSON.stringify(skeleton(emptyModel(type), normalizer, pre)));
  quietly(() => tok.train([trainFile]));
  const f = path.join(tmpDir, "trained.json");
  tok.save(f);
  const model = JSON.parse(fs.readFileSync(f, "utf8")).model;
  trainCache.set(key, JSON.stringify(model));
  return model;
}

// HF's own normalizer + pre-tokenizer on the training text: word counts.
const countsCache = new Map();
function wordCounts(normalizer, pre, text) {
  const key = JSON.stringify([normalizer, pre]);
  if (!countsCache.has(key)) countsCache.set(key, wordCountsUncached(normalizer, pre, text));
  return countsCache.get(key);
}
function wordCountsUncached(normalizer, pre, text) {
  const tok = Tokenizer.fromString(JSON.stringify(skeleton(emptyModel("WordLevel"), normalizer, pre)));
  const n = tok.getNormalizer();
  const p = tok.getPreTokenizer();
  const counts = new Map();
  for (const line of text.split("\n")) {
    if (!line) continue;
    const norm = n ? n.normalizeString(line) : line;
    const words = p ? p.preTokenizeString(norm).map((x) => x[0]) : [norm];
    for (const w of words) if (w) counts.set(w, (counts.get(w) || 0) + 1);
  }
  return counts;
}

// A small, deterministic BPE learner supporting continuing_subword_prefix and
// end_of_word_suffix (the default HF trainer the Node binding exposes supports neither).
function learnBPE(counts, { prefix = "", suffix = "", merges: nMerges = 600, alphabetMin = 2 }) {
  const words = [];
  const charFreq = new Map();
  for (const [w, c] of [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    const chars = Array.from(w);
    for (const ch of chars) charFreq.set(ch, (charFreq.get(ch) || 0) + c);
    const syms = chars.map((ch, i) => (i > 0 ? prefix : "") + ch + (i === chars.length - 1 ? suffix : ""));
    words.push({ syms, c });
  }
  const vocab = new Map();
  const add = (t) => { if (!vocab.has(t)) vocab.set(t, vocab.size); };
  const keepChar = (ch) => charFreq.get(ch) >= alphabetMin;
  // Alphabet: every form of every character seen often enough.
  const forms = new Set();
  for (const { syms } of words)
    for (const s of syms) {
      let core = s;
      if (prefix && core.startsWith(prefix)) core = core.slice(prefix.length);
      if (suffix && core.endsWith(suffix)) core = core.slice(0, -suffix.length);
      if (keepChar(core)) forms.add(s);
    }
  [...forms].sort().forEach(add);
  const mergeList = [];
  const join = (a, b) => a + (prefix ? b.slice(prefix.length) : b);
  // Pair counts, kept up to date incrementally: pair key -> count, pair key -> word indices.
  const SEP = "\u0000";
  const pc = new Map();
  const where = new Map();
  const account = (wi, sign) => {
    const { syms, c } = words[wi];
    for (let i = 0; i + 1 < syms.length; i++) {
      if (!vocab.has(syms[i]) || !vocab.has(syms[i + 1])) continue;
      const k = syms[i] + SEP + syms[i + 1];
      pc.set(k, (pc.get(k) || 0) + sign * c);
      if (sign > 0) {
        if (!where.has(k)) where.set(k, new Set());
        where.get(k).add(wi);
      }
    }
  };
  words.forEach((_, wi) => account(wi, +1));
  for (let m = 0; m < nMerges; m++) {
    let best = null, bestC = 1;
    for (const [k, c] of pc) if (c > bestC || (c === bestC && best !== null && k < best)) { best = k; bestC = c; }
    if (best === null) break;
    const [a, b] = best.split(SEP);
    const ab = join(a, b);
    mergeList.push([a, b]);
    add(ab);
    for (const wi of [...where.get(best)].sort((x, y) => x - y)) {
      const w = words[wi];
      account(wi, -1);
      const s = w.syms;
      const out = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) { out.push(ab); i++; }
        else out.push(s[i]);
      }
      w.syms = out;
      account(wi, +1);
    }
    pc.delete(best);
    where.delete(best);
  }
  return { vocab, merges: mergeList };
}

// Deterministic PRNG in [0, 1).
function rng(seed) {
  const next = require("../lib/xorshift.js").rng(seed);
  return () => next() / 4294967296;
}
function hashStr(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

// Puts the specials first (ids 0..k-1) and the trained tokens after, in trained-id order.
function withSpecialsFirst(vocabObj, specials) {
  const out = {};
  let next = 0;
  for (const s of specials) out[s] = next++;
  const entries = Object.entries(vocabObj).sort((a, b) => a[1] - b[1]);
  for (const [t] of entries) if (!(t in out)) out[t] = next++;
  return out;
}

function buildModel(fx, train) {
  const trainNorm = fx.trainNormalizer !== undefined ? fx.trainNormalizer : fx.normalizer;
  const trainPre = fx.trainPre !== undefined ? fx.trainPre : fx.pre;
  const o = fx.modelOpts || {};
  switch (fx.model) {
    case "WordPiece": {
      const m = trainHF("WordPiece", trainNorm, trainPre, train.file);
      let vocab = m.vocab;
      const prefix = o.continuing_subword_prefix || "##";
      if (prefix !== "##") {
        const v = {};
        for (const [t, id] of Object.entries(vocab)) v[t.startsWith("##") ? prefix + t.slice(2) : t] = id;
        vocab = v;
      }
      return { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: prefix,
        max_input_chars_per_word: o.max_input_chars_per_word || 100, vocab: withSpecialsFirst(vocab, SPECIALS.WordPiece) };
    }
    case "WordLevel": {
      const m = trainHF("WordLevel", trainNorm, trainPre, train.file);
      return { type: "WordLevel", vocab: withSpecialsFirst(m.vocab, SPECIALS.WordLevel), unk_token: "[UNK]" };
    }
    case "Unigram": {
      // Unigram training is the slow one (1-10 s): the fixtures with no normalizer share
      // one vocab, trained with Metaspace(always, split) (also those that do not split).
      const m = trainNorm === null ? trainHF("Unigram", null, P.meta("always", true), train.file)
        : trainHF("Unigram", trainNorm, trainPre, train.file);
      const specials = SPECIALS.Unigram;
      const vocab = specials.map((s) => [s, 0.0]);
      for (const [p, sc] of m.vocab) if (!specials.includes(p)) vocab.push([p, sc]);
      if (o.byte_fallback)
        for (let b = 0; b < 256; b++) vocab.push([`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`, 0.0]);
      return { type: "Unigram", unk_id: 0, vocab, byte_fallback: !!o.byte_fallback };
    }
    case "BPE": {
      const m = trainHF("BPE", trainNorm, trainPre, train.file);
      const vocab = withSpecialsFirst(m.vocab, SPECIALS.BPE);
      let next = Object.keys(vocab).length;
      for (const ch of byteLevelAlphabet().sort()) if (!(ch in vocab)) vocab[ch] = next++;
      return { ...emptyModel("BPE"), vocab, merges: m.merges };
    }
    case "OwnBPE": {
      const counts = wordCounts(trainNorm, trainPre, train.text);
      const { vocab, merges } = learnBPE(counts, { prefix: o.continuing_subword_prefix || "", suffix: o.end_of_word_suffix || "" });
      const v = withSpecialsFirst(Object.fromEntries(vocab), SPECIALS.OwnBPE);
      return { ...emptyModel("BPE"), unk_token: o.unk_token || null, fuse_unk: !!o.fuse_unk,
        continuing_subword_prefix: o.continuing_subword_prefix || null, end_of_word_suffix: o.end_of_word_suffix || null,
        vocab: v, merges: merges.map(([a, b]) => `${a} ${b}`) };
    }
    case "Bytes": {
      const vocab = {};
      for (const ch of byteLevelAlphabet().sort()) vocab[ch] = Object.keys(vocab).length;
      return { ...emptyModel("BPE"), vocab };
    }
    case "UnkOnly":
      return { type: "WordLevel", vocab: { "[UNK]": 0 }, unk_token: "[UNK]" };
    case "Chars": {
      const counts = wordCounts(trainNorm, trainPre, train.text);
      const chars = [...counts.entries()].filter(([, c]) => c >= 3).map(([w]) => w).sort();
      const v = {};
      for (const s of SPECIALS.Chars) v[s] = Object.keys(v).length;
      for (const ch of chars) if (!(ch in v)) v[ch] = Object.keys(v).length;
      return { type: "WordLevel", vocab: v, unk_token: "<unk>" };
    }
  }
  throw new Error(`unknown model ${fx.model}`);
}

function modelHas(model, content) {
  if (Array.isArray(model.vocab)) return model.vocab.findIndex((e) => e[0] === content);
  return Object.prototype.hasOwnProperty.call(model.vocab, content) ? model.vocab[content] : -1;
}
function modelSize(model) {
  return Array.isArray(model.vocab) ? model.vocab.length : Object.keys(model.vocab).length;
}

function buildFixture(fx, train, outDir) {
  const model = buildModel(fx, train);
  // Added tokens: the model's id when the content is in the vocab, else the next free id
  // (what HF's AddedVocabulary assigns on load).
  let next = modelSize(model);
  const added = fx.added.map((t) => {
    const h = modelHas(model, t.content);
    return { id: h >= 0 ? h : next++, ...t };
  });
  const idOf = (c) => {
    const a = added.find((t) => t.content === c);
    if (a) return a.id;
    const h = modelHas(model, c);
    if (h < 0) throw new Error(`${fx.name}: post-processor token ${c} not in vocab`);
    return h;
  };
  const json = {
    version: "1.0", truncation: null, padding: null,
    added_tokens: added.map((t) => ({ id: t.id, content: t.content, single_word: t.single_word, lstrip: t.lstrip,
      rstrip: t.rstrip, normalized: t.normalized, special: t.special })),
    normalizer: fx.normalizer, pre_tokenizer: fx.pre, post_processor: fx.post ? fx.post(idOf) : null,
    decoder: fx.decoder, model,
  };
  const dir = path.join(outDir, fx.name);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "tokenizer.json");
  let vocabSize = next;
  if (fx.hfRejects) {
    // Not loadable by HF (it may even abort): written as is.
    fs.writeFileSync(file, JSON.stringify(json, null, 2) + "\n");
  } else {
    // HF loads it (validation) and writes its canonical form.
    const tok = Tokenizer.fromString(JSON.stringify(json));
    tok.save(file, true);
    vocabSize = tok.getVocabSize(true);
    for (const t of added) {
      const got = tok.tokenToId(t.content);
      if (got !== t.id) throw new Error(`${fx.name}: HF gave added token ${t.content} id ${got}, expected ${t.id}`);
    }
  }
  // Random id sequences for the decode check: any id, biased to specials, with repeats.
  const r = rng(hashStr(fx.name));
  const specialIds = added.map((t) => t.id);
  const seqs = [[]];
  for (let k = 0; k < 60; k++) {
    const len = 1 + Math.floor(r() * 24);
    const ids = [];
    for (let i = 0; i < len; i++) {
      const x = r();
      if (x < 0.15 && specialIds.length) ids.push(specialIds[Math.floor(r() * specialIds.length)]);
      else if (x < 0.25 && ids.length) ids.push(ids[ids.length - 1]);
      else ids.push(Math.floor(r() * vocabSize));
    }
    seqs.push(ids);
  }
  fs.writeFileSync(path.join(dir, "decode_extra.jsonl"), seqs.map((ids) => JSON.stringify({ ids })).join("\n") + "\n");
  fs.writeFileSync(path.join(dir, "meta.json"),
    JSON.stringify({ name: fx.name, description: fx.desc, hf_rejects: !!fx.hfRejects, sweep: !!fx.sweep }, null, 2) + "\n");
}

function main() {
  const outDir = process.argv[2];
  if (!outDir || process.argv.length !== 3) {
    process.stderr.write("usage: node tests/components/make_fixtures.js OUT_DIR\n");
    process.exit(2);
  }
  fs.mkdirSync(outDir, { recursive: true });
  const { texts, nLong } = buildCorpus(outDir);
  const train = buildTrainFile(outDir, texts, nLong);
  buildSweep(outDir);
  const only = process.env.COMPONENT_FIXTURES ? new Set(process.env.COMPONENT_FIXTURES.split(",")) : null;
  const names = new Set();
  for (const fx of FIXTURES) {
    if (names.has(fx.name)) throw new Error(`duplicate fixture ${fx.name}`);
    names.add(fx.name);
    if (only && !only.has(fx.name)) continue;
    const t0 = Date.now();
    buildFixture(fx, train, outDir);
    process.stderr.write(`  fixture ${fx.name} (${Date.now() - t0} ms)\n`);
  }
  fs.writeFileSync(path.join(outDir, "fixtures.list"),
    FIXTURES.filter((f) => !only || only.has(f.name)).map((f) => `${f.name}\t${f.desc}`).join("\n") + "\n");
}

main();
