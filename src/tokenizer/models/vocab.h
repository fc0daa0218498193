// A plain token <-> id vocabulary shared by the WordPiece, WordLevel and Unigram models.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/hash_map.h"

namespace tokalign::tok {

class Vocab {
 public:
  void add(std::string token, uint32_t id) {
    map_.set(token, id);
    if (id >= tokens_.size()) tokens_.resize(size_t(id) + 1);
    tokens_[id] = std::move(token);
  }
  std::optional<uint32_t> get(std::string_view t) const { return map_.get(t); }
  std::optional<std::string_view> token(uint32_t id) const {
    if (id >= tokens_.size() || !map_.get(tokens_[id])) return std::nullopt;
    return std::string_view(tokens_[id]);
  }
  size_t size() const { return map_.size(); }
  size_t id_end() const { return tokens_.size(); }  // one past the largest id

 private:
  StringIdMap map_;
  std::vector<std::string> tokens_;
};

}  // namespace tokalign::tok
