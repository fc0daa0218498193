#include "tokenizer/spm_fast_path.h"

#include <cstring>

#include "tokenizer/pattern.h"
#include "unicode/utf8.h"

namespace tokalign::tok {

namespace {

constexpr std::string_view kMeta = "\xE2\x96\x81";  // U+2581

}  // namespace

std::unique_ptr<SpmFastPath> SpmFastPath::detect(const Normalizer* normalizer, const PreTokenizer* pre_tokenizer,
                                                 const Model* model, const AddedVocabulary& added) {
  if (pre_tokenizer || !normalizer) return nullptr;
  const auto* seq = dynamic_cast<const SequenceNormalizer*>(normalizer);
  if (!seq || seq->items().size() != 2) return nullptr;
  const auto* prepend = dynamic_cast<const PrependNormalizer*>(seq->items()[0].get());
  const auto* replace = dynamic_cast<const ReplaceNormalizer*>(seq->items()[1].get());
  if (!prepend || !replace || prepend->prepend() != kMeta || replace->content() != kMeta) return nullptr;
  const auto* literal = dynamic_cast<const StringPattern*>(&replace->pattern());
  if (!literal || literal->literal() != " ") return nullptr;
  const auto* bpe = dynamic_cast<const BpeModel*>(model);
  if (!bpe || bpe->byte_level() || !bpe->spm_cut_after(U'a')) return nullptr;
  for (const AddedToken& t : added.tokens())
    if (t.normalized) return nullptr;
  return std::unique_ptr<SpmFastPath>(new SpmFastPath(*bpe));
}

void SpmFastPath::encode(std::string_view p, size_t shift, std::vector<uint32_t>& ids,
                         std::vector<std::pair<size_t, size_t>>* offsets) const {
  if (p.empty()) return;  // Prepend leaves an empty piece empty
  // Pass 1: the normalized piece ("▁" prepended, each space a "▁"), where its spaces went,
  // and where it is cut into words: before each space whose preceding char (in the
  // normalized text: "▁" for a space or the prepended one) allows it.
  thread_local std::string norm;
  thread_local std::vector<uint32_t> metas;  // positions in norm of the "▁"s from spaces
  thread_local std::vector<uint32_t> cuts;   // word starts in norm, then norm.size()
  thread_local std::vector<Token> toks;
  norm.resize(3 + 3 * p.size());  // at most: each byte a space
  char* out = norm.data();
  std::memcpy(out, kMeta.data(), 3);
  size_t j = 3;
  metas.clear();
  cuts.assign(1, 0);
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c != ' ') {
      out[j++] = c;
      continue;
    }
    if (i > 0) {
      char32_t prev = static_cast<unsigned char>(p[i - 1]);
      if (prev == ' ') {
        prev = U'\u2581';
      } else if (prev >= 0x80) {
        size_t k = i - 1;
        while (k > 0 && unicode::is_continuation(static_cast<unsigned char>(p[k]))) --k;
        prev = unicode::decode(p, k);
      }
      if (model_.spm_cut_after(prev)) cuts.push_back(static_cast<uint32_t>(j));
    }
    metas.push_back(static_cast<uint32_t>(j));
    std::memcpy(out + j, kMeta.data(), 3);
    j += 3;
  }
  norm.resize(j);
  cuts.push_back(static_cast<uint32_t>(norm.size()));

  // Pass 2: each word through the model (BpeModel::tokenize_word, cached). A
  // token's input range is what HF's alignments give: each byte of a char maps to the char's
  // input range, a "▁" from a space to the space, and the prepended "▁" (as HF's prepend
  // aligns it) to the piece's first char.
  const uint32_t first_len = unicode::char_len(static_cast<unsigned char>(p[0]));
  auto is_cont = [&](size_t i) { return unicode::is_continuation(static_cast<unsigned char>(norm[i])); };
  size_t before = 0;  // "▁"s from spaces wholly before the current position (tokens come in order)
  auto input_at = [&](size_t q) {  // q: a char boundary of norm past the prepended "▁"
    while (before < metas.size() && metas[before] < q) ++before;
    while (before > 0 && metas[before - 1] >= q) --before;
    return q - 3 - 2 * before;
  };
  const std::string_view all(norm);
  for (size_t w = 0; w + 1 < cuts.size(); ++w) {
    const size_t ws = cuts[w];
    toks.clear();
    model_.tokenize_word(all.substr(ws, cuts[w + 1] - ws), toks);
    for (const Token& t : toks) {
      ids.push_back(t.id);
      if (!offsets) continue;
      size_t s = ws + t.start, f = ws + t.end;  // widen to whole chars (byte-fallback tokens are single bytes)
      while (s > 0 && s < norm.size() && is_cont(s)) --s;
      while (f < norm.size() && is_cont(f)) ++f;
      const size_t from = s < 3 ? 0 : input_at(s);
      const size_t to = f <= 3 ? first_len : input_at(f);
      offsets->emplace_back(shift + from, shift + to);
    }
  }
}

}  // namespace tokalign::tok
