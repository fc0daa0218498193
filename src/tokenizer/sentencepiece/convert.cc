#include "tokenizer/sentencepiece/convert.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <unordered_map>

#include "tokenizer/sentencepiece/model_proto.h"
#include "tokenizer/tokenizer_config.h"
#include "unicode/utf8.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json_write.h"

namespace tokalign::tok::spm {

namespace {

using Added = TokenizerConfig::Added;

// What transformers 5.17's LlamaTokenizer makes of the folder's configuration.
struct Config {
  bool legacy, add_bos, add_eos, add_prefix_space;
  std::string bos, eos;
  std::map<uint32_t, Added> added;  // added_tokens_decoder
};

Config read_config(const std::string& folder) {
  const TokenizerConfig tc = TokenizerConfig::read(folder);
  if (tc.tokenizer_class && *tc.tokenizer_class != "LlamaTokenizer" && *tc.tokenizer_class != "LlamaTokenizerFast")
    throw Error(folder + "/tokenizer_config.json: tokenizer_class " + *tc.tokenizer_class +
                " from a tokenizer.model is not supported (only LlamaTokenizer; give a tokenizer.json)");
  // LlamaTokenizer(legacy=False); transformers 5.17 reads an absent add_bos_token as false.
  return Config{tc.legacy.value_or(false), tc.add_bos_token.value_or(false), tc.add_eos_token.value_or(false),
                tc.add_prefix_space.value_or(true), tc.bos_token.value_or("<s>"), tc.eos_token.value_or("</s>"),
                tc.added_tokens_decoder};
}

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char ch : s) n += !unicode::is_continuation(ch);
  return n;
}

// Bump when llama_tokenizer_json's output changes for the same files: cached conversions
// are keyed by it (llama_conversion_inputs).
constexpr std::string_view kConverterVersion = "tokalign tokenizer.model conversion 1";

}  // namespace

std::string llama_conversion_inputs(const std::string& model_path, const std::string& folder) {
  namespace fs = std::filesystem;
  std::string key(kConverterVersion);
  // The files read_config and parse_model_proto read, each with its length (a missing one
  // marked as such), so no two sets of files give one key.
  for (const std::string& path : {model_path, (fs::path(folder) / "special_tokens_map.json").string(),
                                  (fs::path(folder) / "tokenizer_config.json").string()}) {
    std::error_code ec;
    if (path != model_path && !fs::exists(path, ec)) {
      key += "\nabsent";
      continue;
    }
    const std::string bytes = read_file(path);
    key += "\n" + std::to_string(bytes.size()) + "\n";
    key += bytes;
  }
  return key;
}

std::string llama_tokenizer_json(const std::string& model_path, const std::string& folder) {
  const ModelProto m = parse_model_proto(read_file(model_path), model_path);
  if (m.model_type != 2)
    throw Error(model_path + ": only BPE SentencePiece models are supported (this one is " +
                (m.model_type == 1 ? std::string("Unigram") : "type " + std::to_string(m.model_type)) + ")");
  const Config c = read_config(folder);

  std::unordered_map<std::string_view, uint32_t> vocab;
  vocab.reserve(m.pieces.size());
  // As transformers' {piece: id} dict: a repeated piece keeps its last id.
  for (uint32_t i = 0; i < m.pieces.size(); ++i) vocab.insert_or_assign(m.pieces[i].text, i);

  // transformers generate_merges(vocab, None): every split of a piece into two pieces of the
  // vocabulary, ordered by the merged piece's id, then the halves' lengths in code points.
  struct Merge {
    uint32_t id, left, right;
    size_t llen, rlen;
  };
  std::vector<Merge> merges;
  for (uint32_t id = 0; id < m.pieces.size(); ++id) {
    const std::string& p = m.pieces[id].text;
    for (size_t cut = 1; cut < p.size(); ++cut) {
      if (unicode::is_continuation(static_cast<unsigned char>(p[cut]))) continue;
      auto l = vocab.find(std::string_view(p).substr(0, cut));
      auto r = vocab.find(std::string_view(p).substr(cut));
      if (l != vocab.end() && r != vocab.end())
        merges.push_back({id, l->second, r->second, code_points(l->first), code_points(r->first)});
    }
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    if (a.id != b.id) return a.id < b.id;
    if (a.llen != b.llen) return a.llen < b.llen;
    return a.rlen < b.rlen;
  });

  // Added tokens: the model's unknown, control and user-defined pieces, then
  // added_tokens_decoder, which wins for the ids it names.
  std::map<uint32_t, Added> added;
  for (uint32_t id = 0; id < m.pieces.size(); ++id) {
    const int t = m.pieces[id].type;
    if (t == 2 || t == 3 || t == 4) added[id] = Added{m.pieces[id].text, t != 4};
  }
  for (const auto& [id, a] : c.added) added[id] = a;

  auto id_of = [&](const std::string& tok) -> std::optional<uint32_t> {
    for (const auto& [id, a] : added)
      if (a.content == tok) return id;
    auto it = vocab.find(tok);
    if (it != vocab.end()) return it->second;
    return std::nullopt;
  };

  std::string j = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[";
  bool first = true;
  for (const auto& [id, a] : added) {
    if (!first) j += ",";
    first = false;
    j += "{\"id\":" + std::to_string(id) + ",\"content\":";
    append_json_string(j, a.content);
    j += std::string(",\"single_word\":") + (a.single_word ? "true" : "false") + ",\"lstrip\":" + (a.lstrip ? "true" : "false") +
         ",\"rstrip\":" + (a.rstrip ? "true" : "false") + ",\"normalized\":" + (a.normalized ? "true" : "false") +
         ",\"special\":" + (a.special ? "true" : "false") + "}";
  }
  j += "],\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\xE2\x96\x81\",\"prepend_scheme\":\"";
  j += !c.add_prefix_space ? "never" : c.legacy ? "always" : "first";
  j += "\",\"split\":false},\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[";
  std::string specials, single, pair;
  auto special_ref = [&](const std::string& tok, int type_id) {
    return std::string("{\"SpecialToken\":{\"id\":").append(json_quoted(tok)).append(",\"type_id\":")
        .append(std::to_string(type_id)).append("}}");
  };
  auto add_special = [&](const std::string& tok, const char* what) {
    auto id = id_of(tok);
    if (!id) throw Error(model_path + ": the " + std::string(what) + " token " + tok + " is not in the vocabulary");
    if (!specials.empty()) specials += ",";
    const std::string q = json_quoted(tok);
    specials += q + ":{\"id\":" + q + ",\"ids\":[" + std::to_string(*id) + "],\"tokens\":[" + q + "]}";
  };
  for (int type_id = 0; type_id < 2; ++type_id) {
    std::string& seq = type_id == 0 ? single : pair;
    std::string part;
    if (c.add_bos) part += special_ref(c.bos, type_id) + ",";
    part += std::string("{\"Sequence\":{\"id\":\"") + (type_id == 0 ? "A" : "B") + "\",\"type_id\":" + std::to_string(type_id) + "}}";
    if (c.add_eos) part.append(",").append(special_ref(c.eos, type_id));
    seq += part;
  }
  if (c.add_bos) add_special(c.bos, "bos");
  if (c.add_eos && c.eos != c.bos) add_special(c.eos, "eos");
  j += single + "],\"pair\":[" + single + "," + pair + "],\"special_tokens\":{" + specials + "}},";
  j += "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\"\xE2\x96\x81\"},"
       "\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"}";
  if (c.add_prefix_space) j += ",{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}";
  j += "]},\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":null,"
       "\"end_of_word_suffix\":null,\"fuse_unk\":true,\"byte_fallback\":true,\"ignore_merges\":false,\"vocab\":{";
  for (uint32_t id = 0; id < m.pieces.size(); ++id) {
    if (id) j += ",";
    append_json_string(j, m.pieces[id].text);
    j.append(":").append(std::to_string(id));
  }
  j += "},\"merges\":[";
  for (size_t i = 0; i < merges.size(); ++i) {
    if (i) j += ",";
    j += "[";
    append_json_string(j, m.pieces[merges[i].left].text);
    j += ",";
    append_json_string(j, m.pieces[merges[i].right].text);
    j += "]";
  }
  j += "]}}";
  return j;
}

}  // namespace tokalign::tok::spm
