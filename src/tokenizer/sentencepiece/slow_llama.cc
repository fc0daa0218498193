#include "tokenizer/sentencepiece/slow_llama.h"

#include <sentencepiece_processor.h>

#include <filesystem>

#include "tokenizer/tokenizer_config.h"
#include "unicode/py_strip.h"
#include "unicode/utf8.h"
#include "util/error.h"
#include "util/file.h"

namespace tokalign::tok::spm {

namespace {

constexpr std::string_view kUnderline = "\xE2\x96\x81";  // "▁", SPIECE_UNDERLINE

// A NormalizerSpec (ModelProto field 3) holding only add_dummy_prefix (field 3) = false.
// Protocol buffers merge a repeated embedded message into the earlier one, so appending this to
// a serialized model switches the dummy prefix off and keeps everything else: what
// LlamaTokenizer.get_spm_processor does for legacy=False with the generated protobuf classes
// (Debian's libsentencepiece-dev ships no sentencepiece_model.pb.h to do it that way).
constexpr std::string_view kNoDummyPrefix{"\x1A\x02\x18\x00", 4};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  for (size_t at = 0;;) {
    const size_t k = s.find(from, at);
    out.append(s.substr(at, k == std::string_view::npos ? std::string_view::npos : k - at));
    if (k == std::string_view::npos) return out;
    out.append(to);
    at = k + from.size();
  }
}

}  // namespace

struct SlowLlamaTokenizer::Processor {
  sentencepiece::SentencePieceProcessor sp;
};

SlowLlamaTokenizer::SlowLlamaTokenizer() : sp_(std::make_unique<Processor>()) {}
SlowLlamaTokenizer::SlowLlamaTokenizer(SlowLlamaTokenizer&&) noexcept = default;
SlowLlamaTokenizer& SlowLlamaTokenizer::operator=(SlowLlamaTokenizer&&) noexcept = default;
SlowLlamaTokenizer::~SlowLlamaTokenizer() = default;

SlowLlamaTokenizer SlowLlamaTokenizer::load(const std::string& path, Defaults defaults) {
  namespace fs = std::filesystem;
  const bool is_dir = fs::is_directory(path);
  const fs::path dir = is_dir ? fs::path(path) : fs::path(path).parent_path();
  const fs::path model = is_dir ? dir / "tokenizer.model" : fs::path(path);
  if (!fs::exists(model))
    throw Error(model.string() + ": not found (transformers' slow LlamaTokenizer reads the SentencePiece tokenizer.model)");
  std::string bytes = read_file(model.string());
  if (starts_with(bytes, "version https://git-lfs"))
    throw Error(model.string() + ": a Git LFS pointer, not the model (run git lfs pull)");
  const TokenizerConfig tc = TokenizerConfig::read(dir.string());

  SlowLlamaTokenizer t;
  t.legacy_ = defaults.force_legacy ? *defaults.force_legacy : tc.legacy.value_or(defaults.legacy);
  t.add_bos_ = tc.add_bos_token.value_or(defaults.add_bos_token);
  t.add_eos_ = tc.add_eos_token.value_or(false);
  t.unk_ = tc.unk_token.value_or("<unk>");
  t.bos_ = tc.bos_token.value_or("<s>");
  t.eos_ = tc.eos_token.value_or("</s>");
  t.pad_ = tc.pad_token;
  t.additional_special_ = tc.additional_special_tokens;
  if (!t.legacy_) bytes += kNoDummyPrefix;
  const auto status = t.sp_->sp.LoadFromSerializedProto(bytes);
  if (!status.ok()) throw Error(model.string() + ": SentencePiece cannot load it (" + status.ToString() + ")");

  // PreTrainedTokenizer.__init__: the config's added tokens, then every special token not
  // among them (with its vocabulary id, or the next free id).
  for (const auto& [id, a] : tc.added_tokens_decoder)
    t.add({a.content, static_cast<int32_t>(id), a.lstrip, a.rstrip, a.single_word});
  std::vector<std::string> specials{t.unk_, *t.bos_, *t.eos_};
  if (t.pad_) specials.push_back(*t.pad_);
  specials.insert(specials.end(), t.additional_special_.begin(), t.additional_special_.end());
  t.add_tokens(specials, true);

  std::vector<std::string> unk_pieces;
  (void)t.sp_->sp.Encode(t.unk_, &unk_pieces);
  t.unk_token_length_ = unk_pieces.size();
  return t;
}

void SlowLlamaTokenizer::add(const Added& a) {
  if (auto old = added_.find(a.content); old != added_.end()) added_by_id_.erase(old->second.id);
  added_[a.content] = a;
  added_by_id_[a.id] = a.content;
}

size_t SlowLlamaTokenizer::add_tokens(const std::vector<std::string>& tokens, bool /*special*/) {
  size_t fresh = 0;
  for (const std::string& s : tokens) {
    if (s.empty() || added_.count(s)) continue;
    const std::optional<int32_t> in_vocab = token_to_id(s);
    add({s, in_vocab ? *in_vocab : static_cast<int32_t>(size()), false, false, false});
    fresh += !in_vocab;
  }
  return fresh;
}

size_t SlowLlamaTokenizer::size() const {
  const size_t pieces = static_cast<size_t>(sp_->sp.GetPieceSize());
  size_t beyond = 0;
  for (const auto& [id, s] : added_by_id_) beyond += static_cast<size_t>(id) >= pieces;
  return pieces + beyond;
}

std::optional<int32_t> SlowLlamaTokenizer::token_to_id(std::string_view token) const {
  if (auto it = added_.find(token); it != added_.end()) return it->second.id;
  const int id = sp_->sp.PieceToId(token);
  if (id >= 0 && id < sp_->sp.GetPieceSize() && sp_->sp.IdToPiece(id) == token) return id;
  return std::nullopt;
}

std::string SlowLlamaTokenizer::id_to_token(int32_t id) const {
  if (auto it = added_by_id_.find(id); it != added_by_id_.end()) return it->second;
  if (id >= 0 && id < sp_->sp.GetPieceSize()) return sp_->sp.IdToPiece(id);
  return {};
}

bool SlowLlamaTokenizer::is_special(std::string_view token) const {
  if (token == unk_ || (bos_ && token == *bos_) || (eos_ && token == *eos_) || (pad_ && token == *pad_)) return true;
  for (const std::string& s : additional_special_)
    if (token == s) return true;
  return false;
}

// Trie.split: at the leftmost position where an added token starts, the longest one; the text
// between matches stays whole. Then PreTrainedTokenizer.tokenize's rstrip / lstrip /
// single_word pass over the neighbours.
std::vector<std::string> SlowLlamaTokenizer::split_added(std::string_view text) const {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    size_t best = 0;
    // Candidates share the first byte: the map is ordered, so they sit together.
    for (auto it = added_.lower_bound(text.substr(i, 1)); it != added_.end() && it->first[0] == text[i]; ++it)
      if (it->first.size() > best && text.compare(i, it->first.size(), it->first) == 0) best = it->first.size();
    if (!best) {
      ++i;
      continue;
    }
    if (i > start) parts.emplace_back(text.substr(start, i - start));
    parts.emplace_back(text.substr(i, best));
    i += best;
    start = i;
  }
  if (start < text.size()) parts.emplace_back(text.substr(start));

  for (size_t i = 0; i < parts.size(); ++i) {
    const auto it = added_.find(parts[i]);
    if (it == added_.end()) continue;
    const Added& a = it->second;
    const bool has_left = i > 0 && !parts[i - 1].empty(), has_right = i + 1 < parts.size() && !parts[i + 1].empty();
    if (a.rstrip && has_right) parts[i + 1] = std::string(unicode::py_lstrip(parts[i + 1]));
    if (a.lstrip && has_left) parts[i - 1] = std::string(unicode::py_rstrip(parts[i - 1]));
    if (a.single_word && has_left && parts[i - 1].back() != ' ') {
      parts[i - 1] += parts[i];
      parts[i].clear();
    } else if (a.single_word && has_right && parts[i + 1][0] != ' ') {
      parts[i] += parts[i + 1];
      parts[i + 1].clear();
    }
  }
  return parts;
}

void SlowLlamaTokenizer::sp_tokenize(std::string_view text, std::vector<std::string>& out) const {
  std::vector<std::string> pieces;
  if (legacy_ || !(starts_with(text, kUnderline) || starts_with(text, " "))) {
    (void)sp_->sp.Encode(text, &pieces);
    out.insert(out.end(), pieces.begin(), pieces.end());
    return;
  }
  // The unk-prefix trick: without the dummy prefix SentencePiece would drop the leading "▁".
  (void)sp_->sp.Encode(unk_ + std::string(text), &pieces);
  const size_t cut = pieces.size() >= unk_token_length_ ? unk_token_length_ : 0;
  out.insert(out.end(), pieces.begin() + static_cast<std::ptrdiff_t>(cut), pieces.end());
}

std::vector<std::string> SlowLlamaTokenizer::base_tokenize(std::string_view text, bool split_special) const {
  std::vector<std::string> tokens;
  if (split_special) {
    sp_tokenize(text, tokens);
    return tokens;
  }
  for (const std::string& part : split_added(text)) {
    if (part.empty()) continue;
    if (added_.count(part)) tokens.push_back(part);
    else sp_tokenize(part, tokens);
  }
  return tokens;
}

std::vector<std::string> SlowLlamaTokenizer::tokenize(std::string_view text, bool split_special) const {
  // A Python str is always valid UTF-8; reject what transformers could never be given.
  if (size_t bad = unicode::find_invalid_utf8(text); bad != std::string_view::npos)
    throw Error("input is not valid UTF-8 at byte " + std::to_string(bad));
  if (legacy_ || text.empty()) return base_tokenize(text, split_special);
  std::vector<std::string> tokens =
      base_tokenize(std::string(kUnderline) + replace_all(text, kUnderline, " "), split_special);
  if (tokens.size() > 1 && tokens[0] == kUnderline && is_special(tokens[1])) tokens.erase(tokens.begin());
  return tokens;
}

std::vector<int32_t> SlowLlamaTokenizer::tokens_to_ids(const std::vector<std::string>& tokens) const {
  std::vector<int32_t> ids;
  ids.reserve(tokens.size());
  for (const std::string& t : tokens) {
    if (auto it = added_.find(t); it != added_.end()) ids.push_back(it->second.id);
    else ids.push_back(sp_->sp.PieceToId(t));
  }
  return ids;
}

std::vector<int32_t> SlowLlamaTokenizer::encode(std::string_view text, bool add_special_tokens, bool split_special) const {
  std::vector<int32_t> ids;
  if (add_special_tokens && add_bos_ && bos_) ids.push_back(token_to_id(*bos_).value_or(sp_->sp.unk_id()));
  const std::vector<int32_t> body = tokens_to_ids(tokenize(text, split_special));
  ids.insert(ids.end(), body.begin(), body.end());
  if (add_special_tokens && add_eos_ && eos_) ids.push_back(token_to_id(*eos_).value_or(sp_->sp.unk_id()));
  return ids;
}

}  // namespace tokalign::tok::spm
