// Hand-written matchers for the most common pre-tokenizer regexes: the Llama-3 pattern
// (also Llama-3.1/3.2/3.3, DeepSeek-R1-Qwen distills ...), the Qwen2/Qwen3 pattern (same
// with single digits) and GPT-2's ByteLevel pattern.
//
// Why hand-written: the split regex is the single largest cost of encoding once words are
// cached (PCRE2-JIT ~40% of the time on English); a direct scan over character classes
// makes the same cuts several times faster (HF measured the same for its own rewrite,
// tokenizers PR #2256). Each matcher reproduces the regex's leftmost-first alternation and
// backtracking exactly and is tested differentially against the PCRE2 run of the same
// pattern (fast_patterns_test.cc) and in the HF parity suite.
#pragma once

#include <memory>
#include <string_view>

#include "tokenizer/pattern.h"

namespace tokalign::tok {

// Returns a hand-written Pattern equal to `regex` if there is one, else nullptr.
std::unique_ptr<Pattern> fast_pattern_for(std::string_view regex);

// The exact regex sources recognised (as they appear in tokenizer.json).
extern const std::string_view kLlama3Regex;
extern const std::string_view kQwenRegex;
extern const std::string_view kGpt2Regex;

}  // namespace tokalign::tok
