// Follows jinja2/lexer.py (pallets/jinja, 3.1): the root rule with OptionalLStrip, the block /
// variable / comment / raw end rules, the balancing stack that keeps "}}" inside a dict
// literal from ending a tag, and Python's string-literal escapes.
#include "chat/jinja/lexer.h"

#include <cctype>

#include "unicode/py_strip.h"
#include "unicode/utf8.h"
#include "util/error.h"

namespace tokalign::chat::jinja {

std::string Lexed::where(size_t pos) const {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < pos && i < source.size(); ++i) {
    if (source[i] == '\n') {
      ++line;
      col = 1;
    } else if (!unicode::is_continuation(static_cast<unsigned char>(source[i]))) {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Python's \s* from i (Unicode whitespace, as re does for str patterns).
size_t skip_py_space(std::string_view s, size_t i) {
  while (i < s.size()) {
    size_t k = i;
    if (!unicode::is_py_space(unicode::decode(s, k))) break;
    i = k;
  }
  return i;
}

class Lexer {
 public:
  Lexer(std::string source, const LexOptions& o) : o_(o) { out_.source = std::move(source); }

  Lexed run() {
    const std::string& s = out_.source;
    size_t pos = 0;
    bool line_starting = true;
    while (pos < s.size()) {
      size_t at = find_tag(pos);
      if (at == std::string::npos) {
        emit_data(s.substr(pos), pos);
        break;
      }
      const char kind = s[at + 1];
      const char sign = at + 2 < s.size() && (s[at + 2] == '-' || s[at + 2] == '+') ? s[at + 2] : 0;
      size_t p = at + 2 + (sign ? 1 : 0);
      if (kind == '%') {
        if (size_t raw_end = match_raw_begin(p); raw_end != std::string::npos) {
          emit_data(strip_before(s.substr(pos, at - pos), sign, kind, line_starting), pos);
          pos = lex_raw(raw_end, at, line_starting);
          continue;
        }
      }
      emit_data(strip_before(s.substr(pos, at - pos), sign, kind, line_starting), pos);
      if (kind == '#') {
        pos = skip_comment(p, at, line_starting);
        continue;
      }
      push(kind == '{' ? TokKind::var_begin : TokKind::block_begin, kind == '{' ? "{{" : "{%", at);
      pos = lex_tag(p, kind == '{', at, line_starting);
    }
    push(TokKind::eof, "", s.size());
    return std::move(out_);
  }

 private:
  [[noreturn]] void fail(size_t pos, const std::string& what) {
    throw Error("template " + out_.where(pos) + ": " + what);
  }
  void push(TokKind k, std::string text, size_t pos) { out_.tokens.push_back({k, std::move(text), pos}); }
  void emit_data(std::string text, size_t pos) {
    if (!text.empty()) push(TokKind::data, std::move(text), pos);
  }

  size_t find_tag(size_t from) const {
    const std::string& s = out_.source;
    for (size_t i = s.find('{', from); i != std::string::npos && i + 1 < s.size(); i = s.find('{', i + 1))
      if (s[i + 1] == '{' || s[i + 1] == '%' || s[i + 1] == '#') return i;
    return std::string::npos;
  }

  // The text before a tag after whitespace control: "-" strips all whitespace, and with
  // lstrip_blocks a block or comment tag alone on its line takes the line's indent.
  std::string strip_before(std::string text, char sign, char kind, bool line_starting) const {
    if (sign == '-') return std::string(unicode::py_rstrip(text));
    if (sign == '+' || !o_.lstrip_blocks || kind == '{') return text;
    const size_t nl = text.rfind('\n');
    const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
    if (l_pos == 0 && !line_starting) return text;
    if (l_pos < text.size() && skip_py_space(text, l_pos) == text.size()) text.resize(l_pos);
    return text;
  }

  // After "{%" and its sign: the end of "raw %}" when this is a raw block, else npos.
  size_t match_raw_begin(size_t p) const {
    const std::string& s = out_.source;
    size_t i = p;
    while (i < s.size() && is_space(s[i])) ++i;
    if (s.compare(i, 3, "raw") != 0) return std::string::npos;
    i += 3;
    if (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) return std::string::npos;
    while (i < s.size() && is_space(s[i])) ++i;
    if (s.compare(i, 3, "-%}") == 0) return skip_py_space(s, i + 3);
    if (s.compare(i, 2, "%}") == 0) return i + 2;
    return std::string::npos;
  }

  size_t lex_raw(size_t from, size_t tag_pos, bool& line_starting) {
    const std::string& s = out_.source;
    line_starting = from > 0 && s[from - 1] == '\n';
    for (size_t at = s.find("{%", from); at != std::string::npos; at = s.find("{%", at + 1)) {
      const char sign = at + 2 < s.size() && (s[at + 2] == '-' || s[at + 2] == '+') ? s[at + 2] : 0;
      size_t i = at + 2 + (sign ? 1 : 0);
      while (i < s.size() && is_space(s[i])) ++i;
      if (s.compare(i, 6, "endraw") != 0) continue;
      i += 6;
      while (i < s.size() && is_space(s[i])) ++i;
      size_t end;
      if (!tag_end(i, '%', end)) continue;
      emit_data(strip_before(s.substr(from, at - from), sign, '%', line_starting), from);
      line_starting = end > 0 && s[end - 1] == '\n';
      return end;
    }
    fail(tag_pos, "missing end of raw directive");
  }

  // At i: "+%}", "-%}" (and all whitespace after), or "%}" (and one newline with
  // trim_blocks); `c` is '%' or '#'. Sets `end` past the match.
  bool tag_end(size_t i, char c, size_t& end) const {
    const std::string& s = out_.source;
    const std::string close = std::string(1, c) + "}";
    if (i < s.size() && s[i] == '+' && s.compare(i + 1, 2, close) == 0) {
      end = i + 3;
      return true;
    }
    if (i < s.size() && s[i] == '-' && s.compare(i + 1, 2, close) == 0) {
      end = skip_py_space(s, i + 3);
      return true;
    }
    if (s.compare(i, 2, close) == 0) {
      end = i + 2;
      if (o_.trim_blocks && end < s.size() && s[end] == '\n') ++end;
      return true;
    }
    return false;
  }

  size_t skip_comment(size_t p, size_t at, bool& line_starting) {
    const std::string& s = out_.source;
    for (size_t i = s.find("#}", p); i != std::string::npos; i = s.find("#}", i + 1)) {
      size_t end;
      const size_t from = i > p && (s[i - 1] == '-' || s[i - 1] == '+') ? i - 1 : i;
      if (!tag_end(from, '#', end)) continue;
      line_starting = end > 0 && s[end - 1] == '\n';
      return end;
    }
    fail(at, "missing end of comment tag");
  }

  // The tokens of one {{ ... }} or {% ... %}; returns the position after its end.
  size_t lex_tag(size_t i, bool variable, size_t at, bool& line_starting) {
    const std::string& s = out_.source;
    std::string balance;  // open brackets
    for (;;) {
      while (i < s.size() && is_space(s[i])) ++i;
      if (i >= s.size()) fail(at, variable ? "unexpected end of template, expected '}}'" : "unexpected end of template, expected '%}'");
      if (balance.empty()) {
        size_t end;
        if (variable) {
          if (s.compare(i, 3, "-}}") == 0) {
            end = skip_py_space(s, i + 3);
            push(TokKind::var_end, "}}", i);
            line_starting = s[end - 1] == '\n';
            return end;
          }
          if (s.compare(i, 2, "}}") == 0) {
            push(TokKind::var_end, "}}", i);
            line_starting = false;
            return i + 2;
          }
        } else if (tag_end(i, '%', end)) {
          push(TokKind::block_end, "%}", i);
          line_starting = s[end - 1] == '\n';
          return end;
        }
      }
      const char c = s[i];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t j = i;
        while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
        push(TokKind::name, s.substr(i, j - i), i);
        i = j;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        i = lex_number(i);
      } else if (c == '\'' || c == '"') {
        i = lex_string(i);
      } else {
        static const char* ops2[] = {"//", "**", "==", "!=", ">=", "<="};
        std::string op;
        for (const char* o : ops2)
          if (s.compare(i, 2, o) == 0) op = o;
        if (op.empty()) {
          if (std::string_view("+-/*%~[](){}=.:|,;<>").find(c) == std::string_view::npos)
            fail(i, std::string("unexpected char '") + c + "'");
          op = std::string(1, c);
        }
        if (op == "(" || op == "[" || op == "{") {
          balance.push_back(op[0]);
        } else if (op == ")" || op == "]" || op == "}") {
          const char want = op == ")" ? '(' : op == "]" ? '[' : '{';
          if (balance.empty()) fail(i, "unexpected '" + op + "'");
          if (balance.back() != want)
            fail(i, "unexpected '" + op + "', expected '" +
                        std::string(1, balance.back() == '(' ? ')' : balance.back() == '[' ? ']' : '}') + "'");
          balance.pop_back();
        }
        push(TokKind::op, op, i);
        i += op.size();
      }
    }
  }

  size_t lex_number(size_t i) {
    const std::string& s = out_.source;
    auto digits = [&](size_t j) {  // (\d+_)*\d+
      size_t k = j;
      while (k < s.size() && (std::isdigit(static_cast<unsigned char>(s[k])) ||
                              (s[k] == '_' && k + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[k + 1])) && k > j)))
        ++k;
      return k;
    };
    size_t j = digits(i);
    bool is_float = false;
    if (j + 1 < s.size() && s[j] == '.' && std::isdigit(static_cast<unsigned char>(s[j + 1]))) {
      j = digits(j + 1);
      is_float = true;
    }
    if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
      size_t k = j + 1;
      if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
      if (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) {
        j = digits(k);
        is_float = true;
      }
    }
    std::string text;
    for (size_t k = i; k < j; ++k)
      if (s[k] != '_') text.push_back(s[k]);
    push(is_float ? TokKind::floating : TokKind::integer, text, i);
    return j;
  }

  // A quoted string with Python's escapes ("unicode-escape": unknown escapes stay as typed).
  size_t lex_string(size_t i) {
    const std::string& s = out_.source;
    const char q = s[i];
    std::string v;
    size_t j = i + 1;
    for (;;) {
      if (j >= s.size()) fail(i, "unexpected end of string");
      const char c = s[j];
      if (c == q) break;
      if (c != '\\') {
        v.push_back(c);
        ++j;
        continue;
      }
      if (j + 1 >= s.size()) fail(i, "unexpected end of string");
      const char e = s[j + 1];
      j += 2;
      auto hex = [&](size_t n) {
        if (j + n > s.size()) fail(i, "truncated \\x, \\u or \\U escape in a string");
        uint32_t cp = 0;
        for (size_t k = 0; k < n; ++k) {
          const char h = s[j + k];
          if (!std::isxdigit(static_cast<unsigned char>(h))) fail(i, "truncated \\x, \\u or \\U escape in a string");
          cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
        }
        j += n;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail(i, "an escape in a string names no character");
        unicode::append_utf8(v, cp);
      };
      switch (e) {
        case '\n': break;
        case '\\': v.push_back('\\'); break;
        case '\'': v.push_back('\''); break;
        case '"': v.push_back('"'); break;
        case 'a': v.push_back('\a'); break;
        case 'b': v.push_back('\b'); break;
        case 'f': v.push_back('\f'); break;
        case 'n': v.push_back('\n'); break;
        case 'r': v.push_back('\r'); break;
        case 't': v.push_back('\t'); break;
        case 'v': v.push_back('\v'); break;
        case 'x': hex(2); break;
        case 'u': hex(4); break;
        case 'U': hex(8); break;
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && j < s.size() && s[j] >= '0' && s[j] <= '7'; ++k) cp = cp * 8 + static_cast<uint32_t>(s[j++] - '0');
            unicode::append_utf8(v, cp);
          } else {
            v.push_back('\\');
            v.push_back(e);
          }
      }
    }
    push(TokKind::string, std::move(v), i);
    return j + 1;
  }

  LexOptions o_;
  Lexed out_;
};

}  // namespace

Lexed lex(std::string_view source, const LexOptions& options) {
  if (const size_t bad = unicode::find_invalid_utf8(source); bad != std::string_view::npos)
    throw Error("template: not valid UTF-8 at byte " + std::to_string(bad));
  std::string s;
  s.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      s.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      s.push_back(source[i]);
    }
  }
  if (!options.keep_trailing_newline && !s.empty() && s.back() == '\n') s.pop_back();
  return Lexer(std::move(s), options).run();
}

}  // namespace tokalign::chat::jinja
