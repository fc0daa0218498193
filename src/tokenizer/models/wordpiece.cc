#include "tokenizer/models/wordpiece.h"

#include "unicode/utf8.h"
#include "util/error.h"

namespace tokalign::tok {

WordPieceModel::WordPieceModel(Vocab vocab, std::string unk, std::string prefix, size_t max_chars)
    : vocab_(std::move(vocab)), unk_(std::move(unk)), prefix_(std::move(prefix)), max_chars_(max_chars) {}

void WordPieceModel::tokenize(std::string_view w, std::vector<Token>& out) const {
  auto emit_unk = [&] {
    auto id = vocab_.get(unk_);
    if (!id) throw Error("WordPiece: unk_token \"" + unk_ + "\" is not in the vocab");
    out.push_back({*id, 0, static_cast<uint32_t>(w.size())});
  };
  if (unicode::count_chars(w) > max_chars_) {
    emit_unk();
    return;
  }
  const size_t first = out.size();
  std::string key;
  size_t start = 0;
  while (start < w.size()) {
    size_t end = w.size();
    std::optional<uint32_t> found;
    while (start < end) {
      std::string_view sub = w.substr(start, end - start);
      if (start > 0) {
        key.assign(prefix_);
        key.append(sub);
        sub = key;
      }
      if ((found = vocab_.get(sub))) break;
      // Drop the last char of the candidate.
      size_t k = end - 1;
      while (k > start && unicode::is_continuation(static_cast<unsigned char>(w[k]))) --k;
      end = k;
    }
    if (!found) {
      out.resize(first);
      emit_unk();
      return;
    }
    out.push_back({*found, static_cast<uint32_t>(start), static_cast<uint32_t>(end)});
    start = end;
  }
}

WordLevelModel::WordLevelModel(Vocab vocab, std::string unk) : vocab_(std::move(vocab)), unk_(std::move(unk)) {}

void WordLevelModel::tokenize(std::string_view w, std::vector<Token>& out) const {
  auto id = vocab_.get(w);
  if (!id) id = vocab_.get(unk_);
  if (!id) throw Error("WordLevel: unk_token \"" + unk_ + "\" is not in the vocab");
  out.push_back({*id, 0, static_cast<uint32_t>(w.size())});
}

}  // namespace tokalign::tok
