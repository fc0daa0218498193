// Regular expressions for Split pre-tokenizers and Replace normalizers.
//
// tokenizer.json patterns are written for Oniguruma (HF's default engine,
// tokenizers/src/utils/onig.rs). We run them on PCRE2 (JIT) after translating the escapes
// whose meaning differs between the two: Oniguruma's `\s` is the Unicode White_Space
// property, `\h` is a hex digit and `\w` is Alphabetic|Mark|Nd|Pc; PCRE2's are not.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace tokalign::tok {

class Regex {
 public:
  // Throws tokalign::Error naming the pattern and PCRE2's message on a bad pattern.
  explicit Regex(std::string_view oniguruma_pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Finds the leftmost match starting at or after `from`; returns false when none.
  bool search(std::string_view text, size_t from, size_t& start, size_t& end) const;

  // The PCRE2 pattern the Oniguruma one translates to (exposed for tests).
  static std::string translate(std::string_view oniguruma_pattern);

 private:
  std::string source_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tokalign::tok
