// tokenizer.json -> Tokenizer. Every component type HF serializes is either built here or
// refused with an error naming it; nothing is silently approximated.
#include <sys/stat.h>


#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "tokenizer/fast_patterns.h"
#include "tokenizer/cache.h"
#include "tokenizer/json.h"
#include "tokenizer/sentencepiece/convert.h"
#include "tokenizer/models/bpe.h"
#include "tokenizer/models/unigram.h"
#include "tokenizer/models/wordpiece.h"
#include "tokenizer/tokenizer.h"
#include "unicode/utf8.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json_write.h"

namespace tokalign::tok {

class TokenizerLoader {
 public:
  TokenizerLoader(const std::string& source) : source_(source) {}
  // Builds the tokenizer from tokenizer.json text. With `prebuilt`, that model is used
  // instead of the file's (the compiled cache); with `slim`, the text without the model's
  // vocab and merges is written there (for the cache).
  Tokenizer load(std::string_view text, std::unique_ptr<Model> prebuilt = nullptr, std::string* slim = nullptr);

 private:
  NormalizerPtr normalizer(const Json& j);
  PreTokenizerPtr pre_tokenizer(const Json& j);
  std::unique_ptr<Model> model(const Json& j, bool byte_level);
  PostProcessorPtr processor(const Json& j);
  DecoderPtr decoder(const Json& j);
  std::unique_ptr<Pattern> pattern(const Json& j);
  [[noreturn]] void unsupported(const Json& j, std::string_view what, std::string_view type);

  const std::string& source_;
};

namespace {

SplitBehavior behavior_of(const Json& j) {
  std::string_view b = j.str();
  if (b == "Removed") return SplitBehavior::Removed;
  if (b == "Isolated") return SplitBehavior::Isolated;
  if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (b == "Contiguous") return SplitBehavior::Contiguous;
  j.fail("unknown split behavior \"" + std::string(b) + "\"");
}

char32_t single_char(const Json& j) {
  std::string_view s = j.str();
  size_t i = 0;
  if (s.empty()) j.fail("expected a single character, got an empty string");
  char32_t c = unicode::decode(s, i);
  if (i != s.size()) j.fail("expected a single character, got \"" + std::string(s) + "\"");
  return c;
}

// HF Metaspace deserialization (pre_tokenizers/metaspace.rs): prepend_scheme defaults to
// always; add_prefix_space=false demands (and means) never.
PrependScheme prepend_scheme_of(const Json& j) {
  PrependScheme scheme = PrependScheme::Always;
  if (auto ps = j.find("prepend_scheme")) {
    std::string_view s = ps->str();
    if (s == "always") scheme = PrependScheme::Always;
    else if (s == "first") scheme = PrependScheme::First;
    else if (s == "never") scheme = PrependScheme::Never;
    else ps->fail("unknown prepend_scheme \"" + std::string(s) + "\"");
  }
  if (auto aps = j.find("add_prefix_space"); aps && !aps->boolean()) {
    if (scheme != PrependScheme::Never) aps->fail("add_prefix_space does not match declared prepend_scheme");
    scheme = PrependScheme::Never;
  }
  return scheme;
}

}  // namespace

void TokenizerLoader::unsupported(const Json& j, std::string_view what, std::string_view type) {
  j.fail(std::string(what) + " type \"" + std::string(type) + "\" is not supported by tokalign");
}

std::unique_ptr<Pattern> TokenizerLoader::pattern(const Json& j) {
  if (auto s = j.find("String")) return std::make_unique<StringPattern>(std::string(s->str()));
  if (auto r = j.find("Regex")) {
    if (auto fast = fast_pattern_for(r->str())) return fast;
    try {
      return std::make_unique<RegexPattern>(r->str());
    } catch (const Error& e) {
      r->fail(e.what());
    }
  }
  j.fail("expected {\"String\": ...} or {\"Regex\": ...}");
}

NormalizerPtr TokenizerLoader::normalizer(const Json& j) {
  std::string_view type = j.get("type").str();
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(unicode::Form::NFC);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(unicode::Form::NFD);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(unicode::Form::NFKC);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(unicode::Form::NFKD);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  if (type == "Strip") return std::make_unique<StripNormalizer>(j.boolean_or("strip_left", true), j.boolean_or("strip_right", true));
  if (type == "Replace") return std::make_unique<ReplaceNormalizer>(pattern(j.get("pattern")), std::string(j.get("content").str()));
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(std::string(j.get("prepend").str()));
  if (type == "ByteLevel") return std::make_unique<ByteLevelNormalizer>();
  if (type == "BertNormalizer") {
    bool lowercase = j.boolean_or("lowercase", true);
    auto sa = j.find("strip_accents");
    return std::make_unique<BertNormalizer>(j.boolean_or("clean_text", true), j.boolean_or("handle_chinese_chars", true),
                                            sa ? sa->boolean() : lowercase, lowercase);
  }
  if (type == "Sequence") {
    std::vector<NormalizerPtr> items;
    for (const Json& n : j.get("normalizers").array()) items.push_back(normalizer(n));
    return std::make_unique<SequenceNormalizer>(std::move(items));
  }
  // Precompiled (a SentencePiece normalization automaton) is not implemented yet; HF itself
  // refuses an empty or missing charsmap.
  unsupported(j, "normalizer", type);
}

PreTokenizerPtr TokenizerLoader::pre_tokenizer(const Json& j) {
  std::string_view type = j.get("type").str();
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelPreTokenizer>(j.boolean_or("add_prefix_space", true), j.boolean_or("use_regex", true));
  if (type == "Split") {
    auto p = pattern(j.get("pattern"));
    if (j.boolean_or("invert", false)) p = std::make_unique<InvertPattern>(std::move(p));
    return std::make_unique<SplitPreTokenizer>(std::move(p), behavior_of(j.get("behavior")));
  }
  if (type == "Metaspace") {
    char32_t rep = j.find("replacement") ? single_char(j.get("replacement")) : U'\u2581';
    return std::make_unique<MetaspacePreTokenizer>(rep, prepend_scheme_of(j), j.boolean_or("split", true));
  }
  if (type == "Whitespace") return PatternSplitPreTokenizer::whitespace();
  if (type == "WhitespaceSplit") return PatternSplitPreTokenizer::whitespace_split();
  if (type == "BertPreTokenizer") return PatternSplitPreTokenizer::bert();
  if (type == "Punctuation")
    return PatternSplitPreTokenizer::punctuation(j.find("behavior") ? behavior_of(j.get("behavior")) : SplitBehavior::Isolated);
  if (type == "Digits") return PatternSplitPreTokenizer::digits(j.boolean_or("individual_digits", false));
  if (type == "CharDelimiterSplit") return PatternSplitPreTokenizer::char_delimiter(single_char(j.get("delimiter")));
  if (type == "Sequence") {
    std::vector<PreTokenizerPtr> items;
    for (const Json& p : j.get("pretokenizers").array()) items.push_back(pre_tokenizer(p));
    return std::make_unique<SequencePreTokenizer>(std::move(items));
  }
  unsupported(j, "pre_tokenizer", type);
}

std::unique_ptr<Model> TokenizerLoader::model(const Json& j, bool byte_level) {
  std::string type;
  if (auto t = j.find("type")) type = t->str();
  else if (j.find("merges")) type = "BPE";
  else if (auto v = j.find("vocab"); v && v->is_array()) type = "Unigram";
  else if (j.find("max_input_chars_per_word")) type = "WordPiece";
  else type = "WordLevel";

  auto string_vocab = [&](std::vector<std::pair<std::string, uint32_t>>& out) {
    j.get("vocab").for_each_member([&](std::string_view k, const Json& v) {
      int64_t id = v.integer();
      if (id < 0 || id > INT32_MAX) v.fail("token id out of range");
      out.emplace_back(std::string(k), static_cast<uint32_t>(id));
    });
  };

  if (type == "BPE") {
    BpeConfig c;
    if (auto d = j.find("dropout"); d && d->number() != 0.0)
      d->fail("BPE dropout is random; tokalign encodes deterministically and does not support it");
    // vocab and merges are read straight from the DOM as views (the hot part of loading:
    // hundreds of thousands of entries); error paths are built only on failure.
    Json vocab = j.get("vocab");
    simdjson::dom::object vobj;
    if (vocab.element().get_object().get(vobj)) vocab.fail("expected an object of token: id");
    c.vocab.reserve(vobj.size());
    for (auto [k, v] : vobj) {
      int64_t id;
      if (v.get_int64().get(id) || id < 0 || id > INT32_MAX)
        vocab.fail("token \"" + std::string(k) + "\": expected an id between 0 and 2^31-1");
      c.vocab.emplace_back(std::string_view(k), static_cast<uint32_t>(id));
    }
    c.unk_token = j.opt_str("unk_token");
    c.continuing_subword_prefix = j.str_or("continuing_subword_prefix", "");
    c.end_of_word_suffix = j.str_or("end_of_word_suffix", "");
    c.fuse_unk = j.boolean_or("fuse_unk", false);
    c.byte_fallback = j.boolean_or("byte_fallback", false);
    c.ignore_merges = j.boolean_or("ignore_merges", false);
    c.byte_level = byte_level;
    // Merges are ["a", "b"] pairs or, in older files, "a b" strings that must split on ' '
    // into exactly two tokens; "#version" lines are skipped (HF convert_merges_to_hashmap).
    Json merges = j.get("merges");
    simdjson::dom::array marr;
    if (merges.element().get_array().get(marr)) merges.fail("expected an array");
    c.merges.reserve(marr.size());
    size_t i = 0;
    for (simdjson::dom::element m : marr) {
      auto where = [&] { return Json(m, &source_, merges.path() + "[" + std::to_string(i) + "]"); };
      std::string_view str;
      simdjson::dom::array pair;
      if (m.get_string().get(str) == simdjson::SUCCESS) {
        if (str.substr(0, 8) != "#version") {
          size_t sp = str.find(' ');
          if (sp == std::string_view::npos || str.find(' ', sp + 1) != std::string_view::npos)
            where().fail("merge \"" + std::string(str) + "\" is not two tokens separated by one space (as HF requires)");
          c.merges.emplace_back(str.substr(0, sp), str.substr(sp + 1));
        }
      } else if (m.get_array().get(pair) == simdjson::SUCCESS && pair.size() == 2) {
        std::string_view a, b;
        if (pair.at(0).get_string().get(a) || pair.at(1).get_string().get(b)) where().fail("merge must be a pair of strings");
        c.merges.emplace_back(a, b);
      } else {
        where().fail("merge must be \"a b\" or [\"a\", \"b\"]");
      }
      ++i;
    }
    try {
      return std::make_unique<BpeModel>(std::move(c));
    } catch (const Error& e) {
      j.fail(e.what());
    }
  }
  if (type == "WordPiece" || type == "WordLevel") {
    std::vector<std::pair<std::string, uint32_t>> v;
    string_vocab(v);
    Vocab vocab;
    for (auto& [t, id] : v) vocab.add(std::move(t), id);
    if (type == "WordLevel") return std::make_unique<WordLevelModel>(std::move(vocab), j.str_or("unk_token", "<unk>"));
    auto max = j.find("max_input_chars_per_word");
    return std::make_unique<WordPieceModel>(std::move(vocab), j.str_or("unk_token", "[UNK]"),
                                            j.str_or("continuing_subword_prefix", "##"),
                                            max ? static_cast<size_t>(max->integer()) : 100);
  }
  if (type == "Unigram") {
    std::vector<std::pair<std::string, double>> pieces;
    for (const Json& p : j.get("vocab").array()) {
      auto pair = p.array();
      if (pair.size() != 2) p.fail("expected [piece, score]");
      pieces.emplace_back(std::string(pair[0].str()), pair[1].number());
    }
    std::optional<uint32_t> unk;
    if (auto u = j.find("unk_id")) unk = static_cast<uint32_t>(u->integer());
    try {
      // HF's Unigram always fuses unknowns.
      return std::make_unique<UnigramModel>(std::move(pieces), unk, j.boolean_or("byte_fallback", false), true);
    } catch (const Error& e) {
      j.fail(e.what());
    }
  }
  unsupported(j, "model", type);
}

PostProcessorPtr TokenizerLoader::processor(const Json& j) {
  std::string_view type = j.get("type").str();
  auto id_pair = [&](const Json& p) -> uint32_t {
    auto a = p.array();
    if (a.size() != 2) p.fail("expected [token, id]");
    return static_cast<uint32_t>(a[1].integer());
  };
  if (type == "TemplateProcessing") {
    std::vector<TemplateProcessor::Piece> pieces;
    int sequences = 0;
    Json specials = j.get("special_tokens");
    for (const Json& p : j.get("single").array()) {
      if (auto s = p.find("Sequence")) {
        if (s->get("id").str() != "A") s->fail("the single-sequence template may only use sequence A");
        ++sequences;
        pieces.push_back({true, {}});
      } else if (auto sp = p.find("SpecialToken")) {
        std::string name(sp->get("id").str());
        auto def = specials.find(name);
        if (!def) sp->fail("special token \"" + name + "\" is not defined in special_tokens");
        TemplateProcessor::Piece piece{false, {}};
        for (const Json& id : def->get("ids").array()) piece.ids.push_back(static_cast<uint32_t>(id.integer()));
        pieces.push_back(std::move(piece));
      } else {
        p.fail("expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
      }
    }
    if (sequences != 1) j.fail("the single-sequence template must contain sequence A exactly once");
    return std::make_unique<TemplateProcessor>(std::move(pieces));
  }
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelProcessor>(j.boolean_or("trim_offsets", true), j.boolean_or("add_prefix_space", true));
  if (type == "RobertaProcessing")
    return std::make_unique<WrapProcessor>(id_pair(j.get("cls")), id_pair(j.get("sep")), j.boolean_or("trim_offsets", true),
                                           j.boolean_or("add_prefix_space", true));
  if (type == "BertProcessing")
    return std::make_unique<WrapProcessor>(id_pair(j.get("cls")), id_pair(j.get("sep")), false, false);
  if (type == "Sequence") {
    std::vector<PostProcessorPtr> items;
    for (const Json& p : j.get("processors").array()) items.push_back(processor(p));
    return std::make_unique<SequenceProcessor>(std::move(items));
  }
  unsupported(j, "post_processor", type);
}

DecoderPtr TokenizerLoader::decoder(const Json& j) {
  std::string_view type = j.get("type").str();
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Replace") return std::make_unique<ReplaceDecoder>(pattern(j.get("pattern")), std::string(j.get("content").str()));
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip")
    return std::make_unique<StripDecoder>(single_char(j.get("content")), static_cast<size_t>(j.get("start").integer()),
                                          static_cast<size_t>(j.get("stop").integer()));
  if (type == "Metaspace") {
    char32_t rep = j.find("replacement") ? single_char(j.get("replacement")) : U'\u2581';
    return std::make_unique<MetaspaceDecoder>(rep, prepend_scheme_of(j) != PrependScheme::Never);
  }
  if (type == "WordPiece") return std::make_unique<WordPieceDecoder>(j.str_or("prefix", "##"), j.boolean_or("cleanup", true));
  if (type == "BPEDecoder") return std::make_unique<BpeDecoder>(j.str_or("suffix", "</w>"));
  if (type == "CTC")
    return std::make_unique<CtcDecoder>(j.str_or("pad_token", "<pad>"), j.str_or("word_delimiter_token", "|"),
                                        j.boolean_or("cleanup", true));
  if (type == "Sequence") {
    std::vector<DecoderPtr> items;
    for (const Json& d : j.get("decoders").array()) items.push_back(decoder(d));
    return std::make_unique<SequenceDecoder>(std::move(items));
  }
  unsupported(j, "decoder", type);
}

namespace {

// The document again, with model.vocab and model.merges emptied.
std::string slim_json(simdjson::dom::element root) {
  std::string out = "{";
  bool first = true;
  for (auto [k, v] : simdjson::dom::object(root)) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, k);
    out += ':';
    if (k != "model" || !v.is_object()) {
      out += simdjson::minify(v);
      continue;
    }
    out += '{';
    bool mfirst = true;
    for (auto [mk, mv] : simdjson::dom::object(v)) {
      if (!mfirst) out += ',';
      mfirst = false;
      append_json_string(out, mk);
      out += ':';
      if (mk == "vocab") out += "{}";
      else if (mk == "merges") out += "[]";
      else out += simdjson::minify(mv);
    }
    out += '}';
  }
  out += '}';
  return out;
}

}  // namespace

Tokenizer TokenizerLoader::load(std::string_view text, std::unique_ptr<Model> prebuilt, std::string* slim) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root))
    throw Error(source_ + ": not valid JSON: " + simdjson::error_message(err));
  Json j(root, &source_, "");
  if (!j.is_object()) j.fail("expected a JSON object (a tokenizer.json file)");
  if (j.find("truncation"))
    j.get("truncation").fail("truncation in tokenizer.json is not supported; set it to null (tokalign truncates in compile)");
  if (j.find("padding"))
    j.get("padding").fail("padding in tokenizer.json is not supported; set it to null");

  Tokenizer t;
  t.source_ = source_;
  if (auto n = j.find("normalizer")) t.normalizer_ = normalizer(*n);
  if (auto p = j.find("pre_tokenizer")) t.pre_tokenizer_ = pre_tokenizer(*p);

  // Byte-level mode: the last pre-tokenizer step is ByteLevel and the model is a plain BPE.
  ByteLevelPreTokenizer* last_byte_level = nullptr;
  if (auto* bl = dynamic_cast<ByteLevelPreTokenizer*>(t.pre_tokenizer_.get())) last_byte_level = bl;
  if (auto* seq = dynamic_cast<SequencePreTokenizer*>(t.pre_tokenizer_.get()); seq && !seq->items().empty())
    last_byte_level = dynamic_cast<ByteLevelPreTokenizer*>(seq->items().back().get());
  Json m = j.get("model");
  bool raw = false;
  if (last_byte_level) {
    std::string type = m.str_or("type", "BPE");
    raw = type == "BPE" && m.str_or("continuing_subword_prefix", "").empty() && m.str_or("end_of_word_suffix", "").empty() &&
          !m.boolean_or("byte_fallback", false);
  }
  if (slim) *slim = slim_json(root);
  t.model_ = prebuilt ? std::move(prebuilt) : model(m, raw);
  if (auto* bpe = dynamic_cast<BpeModel*>(t.model_.get()); raw && bpe && bpe->byte_level()) {
    last_byte_level->set_map_bytes(false);
    t.byte_level_raw_ = true;
  }

  // Added tokens get their ids the way HF's deserializer gives them (it only warns when the
  // file says otherwise; tokenizer/serialization.rs + AddedVocabulary::add_tokens): the id
  // of the same content already added or in the model vocab, else the next free id.
  std::vector<AddedToken> added;
  if (auto at = j.find("added_tokens")) {
    StringIdMap content_to_id;
    std::map<uint32_t, AddedToken> by_id;
    const uint32_t vocab_size = static_cast<uint32_t>(t.model_->vocab_size());
    for (const Json& a : at->array()) {
      AddedToken tok;
      int64_t id = a.get("id").integer();
      if (id < 0 || id > INT32_MAX) a.get("id").fail("token id out of range");
      tok.content = a.get("content").str();
      if (unicode::find_invalid_utf8(tok.content) != std::string_view::npos) a.fail("content is not valid UTF-8");
      tok.special = a.boolean_or("special", false);
      tok.single_word = a.boolean_or("single_word", false);
      tok.lstrip = a.boolean_or("lstrip", false);
      tok.rstrip = a.boolean_or("rstrip", false);
      tok.normalized = a.boolean_or("normalized", !tok.special);
      if (tok.content.empty()) continue;
      std::optional<uint32_t> assigned = content_to_id.get(tok.content);
      if (!assigned) assigned = t.model_->token_to_id(tok.content);
      if (!assigned) {
        if (by_id.empty()) assigned = vocab_size;
        else {
          uint32_t max = by_id.rbegin()->first;
          assigned = (max >= vocab_size || vocab_size == 0) ? max + 1 : vocab_size;
        }
      }
      tok.id = *assigned;
      content_to_id.set(tok.content, tok.id);
      by_id[tok.id] = std::move(tok);
    }
    for (auto& [id, tok] : by_id) added.push_back(std::move(tok));
  }
  t.added_ = std::make_unique<AddedVocabulary>(std::move(added), t.normalizer_.get());
  if (t.pre_tokenizer_) t.range_only_ = t.pre_tokenizer_->range_steps(t.range_steps_);
  t.detect_fast_paths();
  if (auto p = j.find("post_processor")) t.post_processor_ = processor(*p);
  if (auto d = j.find("decoder")) t.decoder_ = decoder(*d);
  return t;
}

Tokenizer Tokenizer::from_json(std::string_view json, const std::string& source) {
  return TokenizerLoader(source).load(json);
}

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A SentencePiece model to convert for `path` (a folder with a tokenizer.model and no
// tokenizer.json, or a .model file): the model's path and the folder of its configs.
std::optional<std::pair<std::string, std::string>> spm_model_for(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    if (::stat((path + "/tokenizer.json").c_str(), &st) == 0) return std::nullopt;
    const std::string model = path + "/tokenizer.model";
    if (::stat(model.c_str(), &st) != 0) throw Error(path + ": no tokenizer.json or tokenizer.model in this folder");
    return std::pair{model, path};
  }
  if (!ends_with(path, ".model")) return std::nullopt;
  const size_t slash = path.find_last_of('/');
  return std::pair{path, slash == std::string::npos ? std::string(".") : path.substr(0, slash)};
}

}  // namespace

std::string Tokenizer::json_for(const std::string& path, std::string* file_out) {
  // A folder with only a SentencePiece model: converted as transformers 5.x converts it.
  if (const auto spm = spm_model_for(path)) {
    if (file_out) *file_out = spm->first;
    return spm::llama_tokenizer_json(spm->first, spm->second);
  }
  struct stat st {};
  const std::string file = ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) ? path + "/tokenizer.json" : path;
  if (file_out) *file_out = file;
  return read_file(file);
}

Tokenizer Tokenizer::from_file(const std::string& path) {
  // The cache is keyed by the file's bytes, or for a SentencePiece model by what its
  // conversion reads, so that a cached one is not converted again.
  std::string file, text;
  const auto spm = spm_model_for(path);
  if (spm) file = spm->first;
  else text = json_for(path, &file);
  const auto cache_path = spm ? cache_path_for(spm::llama_conversion_inputs(spm->first, spm->second), true)
                              : cache_path_for(text);
  if (cache_path) {
    if (auto cached = cache_read(*cache_path)) {
      try {
        return TokenizerLoader(file).load(cached->slim_json, std::move(cached->model));
      } catch (const Error&) {
        // An entry that does not load is rebuilt below.
      }
    }
  }
  if (spm) text = spm::llama_tokenizer_json(spm->first, spm->second);
  std::string slim;
  Tokenizer t = TokenizerLoader(file).load(text, nullptr, cache_path ? &slim : nullptr);
  if (cache_path)
    if (const auto* bpe = dynamic_cast<const BpeModel*>(t.model_.get())) cache_write(*cache_path, slim, *bpe);
  return t;
}

}  // namespace tokalign::tok
