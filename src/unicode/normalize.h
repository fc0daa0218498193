// Unicode normalization forms (utf8proc), reported the way the Hugging Face normalizers
// consume them: as (char, change) pairs, where change is 0 for a char that replaces one
// input char, +1 for an inserted char and -N for a char that absorbs N following input chars
// (tokenizers/src/tokenizer/normalizer.rs, NormalizedString::transform).
#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace tokalign::unicode {

enum class Form { NFC, NFD, NFKC, NFKD };

// Whole-string normalization in UTF-8.
std::string normalize(std::string_view s, Form form);

// True when normalize(s, form) == s is known without running the normalizer: every char
// is one that stays_unchanged. (False does not mean the text changes.)
bool quick_check_unchanged(std::string_view s, Form form);
bool stays_unchanged(char32_t c, Form form);

// The normalized text of s as HF-style transformations.
std::vector<std::pair<char32_t, int>> normalize_transform(std::string_view s, Form form);

}  // namespace tokalign::unicode
