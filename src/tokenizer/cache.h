// The compiled-tokenizer cache. Building the BPE tables of a large tokenizer.json (Llama-3:
// 128k tokens, 280k merges, 9 MB of JSON) is most of the time a short job spends; the
// tables depend only on the file's bytes, so they are kept, keyed by a 128-bit hash of
// the file, in a cache folder and read back on the next start. Together with them goes the
// file's JSON without vocab and merges, which is parsed as usual. A missing, unreadable or
// corrupt entry is rebuilt from the file; writing is best-effort and atomic.
//
// Folder: $TOKALIGN_CACHE_DIR, else $XDG_CACHE_HOME/tokalign, else $HOME/.cache/tokalign.
// TOKALIGN_NO_CACHE=1 turns it off.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tokenizer/models/bpe.h"

namespace tokalign::tok {

struct CachedTokenizer {
  std::string slim_json;
  std::unique_ptr<BpeModel> model;
};

// The cache entry path for these tokenizer.json bytes, or nullopt when caching is off or
// the file is too small to be worth it. `key` may also be what a tokenizer.json is made from
// (spm::llama_conversion_inputs): then `expensive` keeps even a small one.
std::optional<std::string> cache_path_for(std::string_view key, bool expensive = false);
std::optional<CachedTokenizer> cache_read(const std::string& path);
void cache_write(const std::string& path, std::string_view slim_json, const BpeModel& model);

}  // namespace tokalign::tok
