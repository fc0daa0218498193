// Python writes integers of any size into JSON (tokenizer_config.json's model_max_length is
// often 1000000000000000019884624838656); simdjson refuses integers beyond 64 bits. This
// rewrites such integer literals (outside strings) as floats by appending ".0", which
// simdjson reads as a double. Nothing else in the text changes.
#pragma once

#include <string>
#include <string_view>

namespace tokalign {

// Whether the digits of an integer literal exceed int64 (negative) or uint64 (positive).
inline bool too_big(std::string_view digits, bool negative) {
  const std::string_view limit = negative ? "9223372036854775808" : "18446744073709551615";
  if (digits.size() != limit.size()) return digits.size() > limit.size();
  return digits > limit;
}

inline std::string widen_big_integers(const std::string& json) {
  std::string out;
  out.reserve(json.size() + 8);
  bool in_string = false;
  for (size_t i = 0; i < json.size();) {
    const char c = json[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < json.size()) out.push_back(json[++i]);
      else if (c == '"') in_string = false;
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out.push_back(c);
      ++i;
      continue;
    }
    if ((c >= '0' && c <= '9') || c == '-') {
      size_t j = i + (c == '-');
      while (j < json.size() && json[j] >= '0' && json[j] <= '9') ++j;
      const bool integer = j == json.size() || (json[j] != '.' && json[j] != 'e' && json[j] != 'E');
      out.append(json, i, j - i);
      if (integer && too_big(std::string_view(json).substr(i + (c == '-'), j - i - (c == '-')), c == '-')) out += ".0";
      i = j;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

}  // namespace tokalign
