// The decoders, each a few lines (HF tokenizers/src/decoders/*.rs,
// pre_tokenizers/byte_level.rs, pre_tokenizers/metaspace.rs, normalizers/replace.rs).
#include "tokenizer/byte_level_alphabet.h"
#include "tokenizer/decoders/decoder.h"
#include "unicode/utf8.h"

namespace tokalign::tok {

namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::string out;
  size_t i = 0;
  for (size_t at; (at = s.find(from, i)) != std::string::npos; i = at + from.size()) {
    out.append(s, i, at - i);
    out.append(to);
  }
  out.append(s, i);
  s = std::move(out);
}

}  // namespace

std::string utf8_lossy(std::string_view b) {
  std::string out;
  size_t i = 0;
  while (i < b.size()) {
    size_t bad = unicode::find_invalid_utf8(b.substr(i));
    if (bad == std::string_view::npos) {
      out.append(b.substr(i));
      break;
    }
    out.append(b.substr(i, bad));
    i += bad;
    // Length of the maximal prefix of a valid sequence (WHATWG / Rust semantics).
    auto u = [&](size_t k) { return static_cast<unsigned char>(b[k]); };
    unsigned char c = u(i);
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c == 0xE0) { need = 2; lo = 0xA0; }
    else if (c >= 0xE1 && c <= 0xEC) need = 2;
    else if (c == 0xED) { need = 2; hi = 0x9F; }
    else if (c >= 0xEE && c <= 0xEF) need = 2;
    else if (c == 0xF0) { need = 3; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) need = 3;
    else if (c == 0xF4) { need = 3; hi = 0x8F; }
    size_t k = 1;
    for (; k <= need && i + k < b.size(); ++k) {
      unsigned char x = u(i + k);
      if (k == 1 ? (x < lo || x > hi) : (x < 0x80 || x > 0xBF)) break;
    }
    out.append("\xEF\xBF\xBD");
    i += k;
  }
  return out;
}

int byte_fallback_value(std::string_view t) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && hex(t[3]) >= 0 && hex(t[4]) >= 0)
    return hex(t[3]) * 16 + hex(t[4]);
  return -1;
}

void ByteLevelDecoder::decode_chain(std::vector<std::string>& tokens) const {
  const auto& alpha = ByteLevelAlphabet::get();
  std::string bytes, raw;
  for (const std::string& t : tokens) {
    if (alpha.decode(t, raw)) bytes += raw;
    else bytes += t;
  }
  tokens.assign(1, utf8_lossy(bytes));
}

std::string ReplaceDecoder::apply(std::string t) const {
  thread_local std::vector<Piece> pieces;
  p_->find_matches(t, pieces);
  std::string out;
  for (const Piece& p : pieces) {
    if (p.is_match) out += content_;
    else out.append(t, p.start, p.end - p.start);
  }
  return out;
}

void ReplaceDecoder::decode_chain(std::vector<std::string>& tokens) const {
  for (std::string& t : tokens) t = apply(std::move(t));
}

void ByteFallbackDecoder::decode_chain(std::vector<std::string>& tokens) const {
  std::vector<std::string> out;
  std::string bytes;
  auto flush = [&] {
    if (bytes.empty()) return;
    if (unicode::find_invalid_utf8(bytes) == std::string_view::npos) out.push_back(bytes);
    else
      for (size_t k = 0; k < bytes.size(); ++k) out.emplace_back("\xEF\xBF\xBD");
    bytes.clear();
  };
  for (std::string& t : tokens) {
    if (int v = byte_fallback_value(t); v >= 0) {
      bytes.push_back(static_cast<char>(v));
      continue;
    }
    flush();
    out.push_back(std::move(t));
  }
  flush();
  tokens = std::move(out);
}

void FuseDecoder::decode_chain(std::vector<std::string>& tokens) const {
  std::string all;
  for (const std::string& t : tokens) all += t;
  tokens.assign(1, std::move(all));
}

std::string StripDecoder::apply(std::string_view t) const {
  const auto [a, b] = kept(t);
  return std::string(t.substr(a, b - a));
}

std::pair<size_t, size_t> StripDecoder::kept(std::string_view t) const {
  // Up to start_ leading and stop_ trailing `content` chars go (the two never overlap: what
  // the front takes the back cannot).
  size_t a = 0;
  for (size_t n = 0; n < start_ && a < t.size(); ++n) {
    size_t next = a;
    if (unicode::decode(t, next) != content_) break;
    a = next;
  }
  size_t b = t.size();
  for (size_t n = 0; n < stop_ && b > a; ++n) {
    size_t at = b - 1;
    while (at > a && unicode::is_continuation(static_cast<unsigned char>(t[at]))) --at;
    size_t k = at;
    if (unicode::decode(t, k) != content_) break;
    b = at;
  }
  return {a, std::max(a, b)};
}

void StripDecoder::decode_chain(std::vector<std::string>& tokens) const {
  for (std::string& t : tokens) t = apply(t);
}

void MetaspaceDecoder::decode_chain(std::vector<std::string>& tokens) const {
  for (size_t k = 0; k < tokens.size(); ++k) {
    std::string out;
    const std::string& t = tokens[k];
    for (size_t i = 0; i < t.size();) {
      char32_t c = unicode::decode(t, i);
      if (c == rep_) {
        if (!(k == 0 && strip_first_)) out.push_back(' ');
      } else {
        unicode::append_utf8(out, c);
      }
    }
    tokens[k] = std::move(out);
  }
}

std::string wordpiece_cleanup(std::string s) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
      {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (auto [from, to] : kRules) replace_all(s, from, to);
  return s;
}

void WordPieceDecoder::decode_chain(std::vector<std::string>& tokens) const {
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string& t = tokens[i];
    if (i != 0) {
      if (t.compare(0, prefix_.size(), prefix_) == 0) t.erase(0, prefix_.size());
      else t = " " + t;  // (not t.insert: GCC 12 warns falsely about overlap there)
    }
    if (cleanup_) t = wordpiece_cleanup(std::move(t));
  }
}

void BpeDecoder::decode_chain(std::vector<std::string>& tokens) const {
  for (size_t i = 0; i < tokens.size(); ++i) replace_all(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
}

void CtcDecoder::decode_chain(std::vector<std::string>& tokens) const {
  std::vector<std::string> out;
  const std::string* prev = nullptr;
  for (const std::string& t : tokens) {
    if (prev && *prev == t) continue;
    prev = &t;
    std::string r = t;
    replace_all(r, pad_, "");
    if (cleanup_) {
      r = wordpiece_cleanup(std::move(r));
      replace_all(r, delim_, " ");
    }
    if (!r.empty()) out.push_back(std::move(r));
  }
  tokens = std::move(out);
}

}  // namespace tokalign::tok
