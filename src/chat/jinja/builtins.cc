// Filters and tests follow jinja2/filters.py and jinja2/tests.py (pallets/jinja 3.1); tojson
// is transformers' override (src/transformers/utils/chat_template_utils.py:
// json.dumps(x, ensure_ascii=False, indent=..., separators=..., sort_keys=...)); methods follow
// CPython's str, dict and list. Case mapping is utf8proc's simple per-char mapping (Python's
// full mapping differs for a few chars such as "ß".upper()).
#include "chat/jinja/builtins.h"

#include <utf8proc.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "unicode/categories.h"
#include "unicode/py_strip.h"
#include "unicode/utf8.h"
#include "util/error.h"

namespace tokalign::chat::jinja {

namespace {

// ---- strings by code point ----

std::vector<std::string> chars_of(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const size_t a = i;
    unicode::decode(s, i);
    out.emplace_back(s.substr(a, i - a));
  }
  return out;
}

std::string map_chars(std::string_view s, char32_t (*f)(char32_t)) {
  std::string out;
  for (size_t i = 0; i < s.size();) unicode::append_utf8(out, f(unicode::decode(s, i)));
  return out;
}
char32_t upper_of(char32_t c) { return static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c))); }
char32_t lower_of(char32_t c) { return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))); }
char32_t title_of(char32_t c) { return static_cast<char32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(c))); }
bool is_cased(char32_t c) {
  const auto k = unicode::category(c);
  return k == unicode::Category::Lu || k == unicode::Category::Ll || k == unicode::Category::Lt;
}

std::string py_upper(std::string_view s) { return map_chars(s, upper_of); }
std::string py_lower(std::string_view s) { return map_chars(s, lower_of); }

std::string py_capitalize(std::string_view s) {
  std::string out;
  bool first = true;
  for (size_t i = 0; i < s.size();) {
    const char32_t c = unicode::decode(s, i);
    unicode::append_utf8(out, first ? title_of(c) : lower_of(c));
    first = false;
  }
  return out;
}

std::string py_title(std::string_view s) {
  std::string out;
  bool prev_cased = false;
  for (size_t i = 0; i < s.size();) {
    const char32_t c = unicode::decode(s, i);
    unicode::append_utf8(out, prev_cased ? lower_of(c) : title_of(c));
    prev_cased = is_cased(c);
  }
  return out;
}

// str.strip(chars) family; chars == nullptr: whitespace.
std::string py_strip_chars(std::string_view s, const std::string* chars, bool left, bool right) {
  if (!chars) {
    std::string_view v = s;
    if (left) v = unicode::py_lstrip(v);
    if (right) v = unicode::py_rstrip(v);
    return std::string(v);
  }
  const std::vector<std::string> set = chars_of(*chars);
  auto in_set = [&](std::string_view c) { return std::find(set.begin(), set.end(), c) != set.end(); };
  std::vector<std::string> cs = chars_of(s);
  size_t a = 0, b = cs.size();
  if (left)
    while (a < b && in_set(cs[a])) ++a;
  if (right)
    while (b > a && in_set(cs[b - 1])) --b;
  std::string out;
  for (size_t i = a; i < b; ++i) out += cs[i];
  return out;
}

List py_split(const std::string& s, const Value& sep, int64_t maxsplit, bool from_right) {
  List out;
  if (sep.is_none() || sep.is_undefined()) {
    // Runs of whitespace; no empty strings.
    std::vector<std::pair<size_t, size_t>> words;
    size_t i = 0;
    while (i < s.size()) {
      size_t k = i;
      if (unicode::is_py_space(unicode::decode(s, k))) {
        i = k;
        continue;
      }
      const size_t a = i;
      while (i < s.size()) {
        size_t j = i;
        if (unicode::is_py_space(unicode::decode(s, j))) break;
        i = j;
      }
      words.emplace_back(a, i);
    }
    if (maxsplit < 0 || static_cast<size_t>(maxsplit) + 1 >= words.size()) {
      for (auto [a, b] : words) out.push_back(Value(s.substr(a, b - a)));
      return out;
    }
    const size_t keep = static_cast<size_t>(maxsplit);
    if (!from_right) {
      for (size_t w = 0; w < keep; ++w) out.push_back(Value(s.substr(words[w].first, words[w].second - words[w].first)));
      out.push_back(Value(s.substr(words[keep].first)));
    } else {
      const size_t first = words.size() - keep;
      out.push_back(Value(s.substr(0, words[first - 1].second)));
      for (size_t w = first; w < words.size(); ++w)
        out.push_back(Value(s.substr(words[w].first, words[w].second - words[w].first)));
    }
    return out;
  }
  if (!sep.is_string()) throw Error(std::string("must be str or None, not ") + sep.type_name());
  const std::string& d = sep.str();
  if (d.empty()) throw Error("empty separator");
  std::vector<size_t> at;
  for (size_t p = s.find(d); p != std::string::npos; p = s.find(d, p + d.size())) at.push_back(p);
  if (maxsplit >= 0 && at.size() > static_cast<size_t>(maxsplit)) {
    if (from_right) at.erase(at.begin(), at.end() - maxsplit);
    else at.resize(static_cast<size_t>(maxsplit));
  }
  size_t prev = 0;
  for (size_t p : at) {
    out.push_back(Value(s.substr(prev, p - prev)));
    prev = p + d.size();
  }
  out.push_back(Value(s.substr(prev)));
  return out;
}

List py_splitlines(const std::string& s, bool keepends) {
  List out;
  size_t a = 0, i = 0;
  while (i < s.size()) {
    const size_t at = i;
    const char32_t c = unicode::decode(s, i);
    const bool br = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) || c == 0x85 ||
                    c == 0x2028 || c == 0x2029;
    if (!br) continue;
    if (c == '\r' && i < s.size() && s[i] == '\n') ++i;
    out.push_back(Value(s.substr(a, (keepends ? i : at) - a)));
    a = i;
  }
  if (a < s.size()) out.push_back(Value(s.substr(a)));
  return out;
}

std::string py_replace(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  std::string out;
  if (from.empty()) {  // inserted before each char and at the end
    std::vector<std::string> cs = chars_of(s);
    int64_t n = 0;
    for (const std::string& c : cs) {
      if (count < 0 || n < count) {
        out += to;
        ++n;
      }
      out += c;
    }
    if (count < 0 || n < count) out += to;
    return out;
  }
  size_t prev = 0;
  int64_t n = 0;
  for (size_t p = s.find(from); p != std::string::npos && (count < 0 || n < count); p = s.find(from, prev)) {
    out.append(s, prev, p - prev);
    out += to;
    prev = p + from.size();
    ++n;
  }
  out.append(s, prev);
  return out;
}

// ---- arguments ----

const Value kUndefArg;

// Positional `i`, else keyword `name`, else `dflt` (a reference to it: bind a temporary
// default to a copy, not to a reference).
const Value& arg(const Args& a, size_t i, const char* name, const Value& dflt) {
  if (i < a.pos.size()) return a.pos[i];
  for (const auto& [k, v] : a.kw)
    if (k == name) return v;
  return dflt;
}
bool has_arg(const Args& a, size_t i, const char* name) {
  if (i < a.pos.size()) return true;
  for (const auto& kv : a.kw)
    if (kv.first == name) return true;
  return false;
}
int64_t int_arg(const Args& a, size_t i, const char* name, int64_t dflt) {
  const Value& v = arg(a, i, name, kUndefArg);
  if (v.is_undefined() || v.is_none()) return dflt;
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool();
  throw Error(std::string("argument '") + name + "' must be an integer, not " + v.type_name());
}
const std::string& str_arg(const Args& a, size_t i, const char* name) {
  const Value& v = arg(a, i, name, kUndefArg);
  if (!v.is_string())
    throw Error(std::string("argument '") + name + "' must be str, not " + (v.is_undefined() ? "missing" : v.type_name()));
  return v.str();
}

const Value kNone = Value::none();
const Value kUndef;

// str.format with "{}", "{0}" and "{name}" fields and "{{" / "}}" (no format specs).
std::string py_format(const std::string& f, const Args& a) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if (c == '}') {
      if (i + 1 < f.size() && f[i + 1] == '}') {
        out.push_back('}');
        ++i;
        continue;
      }
      throw Error("Single '}' encountered in format string");
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < f.size() && f[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    const size_t close = f.find('}', i);
    if (close == std::string::npos) throw Error("Single '{' encountered in format string");
    const std::string field = f.substr(i + 1, close - i - 1);
    if (field.find_first_of(":!.[") != std::string::npos) throw Error("format specs in str.format are not supported");
    const Value* v = nullptr;
    if (field.empty() || std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      size_t k = auto_index;
      if (field.empty()) ++auto_index;
      else if (std::from_chars(field.data(), field.data() + field.size(), k).ec != std::errc()) k = SIZE_MAX;
      if (k >= a.pos.size()) throw Error("Replacement index " + std::to_string(k) + " out of range for positional args tuple");
      v = &a.pos[k];
    } else {
      for (const auto& [name, x] : a.kw)
        if (name == field) v = &x;
      if (!v) throw Error("KeyError: '" + field + "'");
    }
    out += v->to_str();
    i = close;
  }
  return out;
}

std::string type_word(const Value& v) {
  if (v.is_none()) return "'None'";
  return std::string("'") + v.type_name() + " object'";
}

// ---- methods ----

Value bound(std::string name, std::function<Value(Args&)> f) {
  Function fn;
  fn.name = std::move(name);
  fn.call = std::move(f);
  return Value(std::move(fn));
}

bool starts_or_ends(const std::string& s, const Value& what, const Args& a, bool ends) {
  std::vector<std::string> cs;
  std::string_view view = s;
  if (has_arg(a, 1, "start") || has_arg(a, 2, "end")) {
    cs = chars_of(s);
    int64_t n = static_cast<int64_t>(cs.size());
    int64_t st = int_arg(a, 1, "start", 0), en = int_arg(a, 2, "end", n);
    if (st < 0) st = std::max<int64_t>(0, st + n);
    if (en < 0) en = std::max<int64_t>(0, en + n);
    st = std::min(st, n);
    en = std::min(en, n);
    static thread_local std::string sub;
    sub.clear();
    for (int64_t i = st; i < en; ++i) sub += cs[static_cast<size_t>(i)];
    view = sub;
  }
  auto one = [&](const Value& p) {
    if (!p.is_string())
      throw Error(std::string(ends ? "endswith" : "startswith") + " first arg must be str or a tuple of str, not " + p.type_name());
    const std::string& x = p.str();
    if (x.size() > view.size()) return false;
    return ends ? view.compare(view.size() - x.size(), x.size(), x) == 0 : view.compare(0, x.size(), x) == 0;
  };
  if (what.is_list()) {
    for (const Value& p : what.list())
      if (one(p)) return true;
    return false;
  }
  return one(what);
}

Value string_method(const Value& self, const std::string& name) {
  const std::string s = self.str();
  static const std::set<std::string> names = {
      "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith", "replace", "upper",
      "lower", "title", "capitalize", "find", "rfind", "index", "rindex", "count", "join", "isdigit", "isalpha",
      "isalnum", "isspace", "isupper", "islower", "isnumeric", "isdecimal", "swapcase", "casefold", "zfill", "center",
      "ljust", "rjust", "partition", "rpartition", "removeprefix", "removesuffix", "expandtabs", "format",
      // Python has these too (so `is defined` holds); calling them is an error here.
      "encode", "format_map", "isascii", "isidentifier", "isprintable", "istitle", "maketrans", "translate"};
  if (!names.count(name)) return Value::undefined("'str object' has no attribute '" + name + "'");
  return bound("str." + name, [s, name](Args& a) -> Value {
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
      const Value& c = arg(a, 0, "chars", kNone);
      if (!c.is_none() && !c.is_string()) throw Error(name + " arg must be None or str");
      return Value(py_strip_chars(s, c.is_string() ? &c.str() : nullptr, name != "rstrip", name != "lstrip"));
    }
    if (name == "split" || name == "rsplit")
      return Value(py_split(s, arg(a, 0, "sep", kNone), int_arg(a, 1, "maxsplit", -1), name == "rsplit"));
    if (name == "splitlines") return Value(py_splitlines(s, arg(a, 0, "keepends", Value(false)).truthy()));
    if (name == "startswith" || name == "endswith") return Value(starts_or_ends(s, arg(a, 0, "prefix", kUndef), a, name == "endswith"));
    if (name == "replace") return Value(py_replace(s, str_arg(a, 0, "old"), str_arg(a, 1, "new"), int_arg(a, 2, "count", -1)));
    if (name == "format") return Value(py_format(s, a));
    if (name == "encode" || name == "format_map" || name == "isascii" || name == "isidentifier" || name == "isprintable" ||
        name == "istitle" || name == "maketrans" || name == "translate")
      throw Error("str." + name + "() is not supported");
    if (name == "upper") return Value(py_upper(s));
    if (name == "lower" || name == "casefold") return Value(py_lower(s));
    if (name == "title") return Value(py_title(s));
    if (name == "capitalize") return Value(py_capitalize(s));
    if (name == "swapcase") {
      std::string out;
      for (size_t i = 0; i < s.size();) {
        const char32_t c = unicode::decode(s, i);
        unicode::append_utf8(out, unicode::category(c) == unicode::Category::Lu ? lower_of(c) : upper_of(c));
      }
      return Value(out);
    }
    if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
      const std::string& sub = str_arg(a, 0, "sub");
      if (name == "count") {
        if (sub.empty()) return Value(static_cast<int64_t>(unicode::count_chars(s) + 1));
        int64_t n = 0;
        for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
        return Value(n);
      }
      const size_t p = name[0] == 'r' ? s.rfind(sub) : s.find(sub);
      if (p == std::string::npos) {
        if (name == "index" || name == "rindex") throw Error("substring not found");
        return Value(int64_t{-1});
      }
      return Value(static_cast<int64_t>(unicode::count_chars(std::string_view(s).substr(0, p))));
    }
    if (name == "join") {
      std::string out;
      const List items = iterate(arg(a, 0, "iterable", kUndef));
      for (size_t i = 0; i < items.size(); ++i) {
        if (!items[i].is_string())
          throw Error("sequence item " + std::to_string(i) + ": expected str instance, " + items[i].type_name() + " found");
        if (i) out += s;
        out += items[i].str();
      }
      return Value(out);
    }
    if (name == "removeprefix" || name == "removesuffix") {
      const std::string& x = str_arg(a, 0, name == "removeprefix" ? "prefix" : "suffix");
      if (name == "removeprefix") return Value(s.compare(0, x.size(), x) == 0 ? s.substr(x.size()) : s);
      return Value(s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0 ? s.substr(0, s.size() - x.size()) : s);
    }
    if (name == "partition" || name == "rpartition") {
      const std::string& sep = str_arg(a, 0, "sep");
      if (sep.empty()) throw Error("empty separator");
      const size_t p = name == "partition" ? s.find(sep) : s.rfind(sep);
      if (p == std::string::npos)
        return name == "partition" ? Value::tuple(List{Value(s), Value(""), Value("")}) : Value::tuple(List{Value(""), Value(""), Value(s)});
      return Value::tuple(List{Value(s.substr(0, p)), Value(sep), Value(s.substr(p + sep.size()))});
    }
    if (name == "zfill" || name == "center" || name == "ljust" || name == "rjust") {
      const int64_t width = int_arg(a, 0, "width", 0);
      const std::string fill = name == "zfill" ? "0" : (has_arg(a, 1, "fillchar") ? str_arg(a, 1, "fillchar") : " ");
      const int64_t n = static_cast<int64_t>(unicode::count_chars(s));
      if (width <= n) return Value(s);
      if (width > (int64_t{1} << 24)) throw Error("width too large");
      const int64_t pad = width - n;
      auto rep = [&](int64_t k) {
        std::string r;
        for (int64_t i = 0; i < k; ++i) r += fill;
        return r;
      };
      if (name == "ljust") return Value(s + rep(pad));
      if (name == "rjust") return Value(rep(pad) + s);
      if (name == "zfill") {
        if (!s.empty() && (s[0] == '-' || s[0] == '+')) return Value(s.substr(0, 1) + rep(pad) + s.substr(1));
        return Value(rep(pad) + s);
      }
      const int64_t left = pad / 2 + (pad & width & 1);
      return Value(rep(left) + s + rep(pad - left));
    }
    if (name == "expandtabs") {
      const int64_t tab = int_arg(a, 0, "tabsize", 8);
      std::string out;
      int64_t col = 0;
      for (size_t i = 0; i < s.size();) {
        const char32_t c = unicode::decode(s, i);
        if (c == '\t') {
          if (tab > 0) {
            const int64_t k = tab - col % tab;
            out.append(static_cast<size_t>(k), ' ');
            col += k;
          }
        } else {
          unicode::append_utf8(out, c);
          col = (c == '\n' || c == '\r') ? 0 : col + 1;
        }
      }
      return Value(out);
    }
    // is*(): every char qualifies and there is at least one.
    if (s.empty()) return Value(false);
    bool any_cased = false, all = true;
    for (size_t i = 0; i < s.size() && all;) {
      const char32_t c = unicode::decode(s, i);
      const auto k = unicode::category(c);
      if (name == "isdigit" || name == "isdecimal" || name == "isnumeric")
        all = name == "isnumeric" ? unicode::is_number(k) : k == unicode::Category::Nd;
      else if (name == "isalpha") all = unicode::is_letter(k);
      else if (name == "isalnum") all = unicode::is_letter(k) || unicode::is_number(k);
      else if (name == "isspace") all = unicode::is_py_space(c);
      else if (name == "isupper" || name == "islower") {
        if (k == unicode::Category::Lu || k == unicode::Category::Lt) {
          any_cased = true;
          all = name == "isupper";
        } else if (k == unicode::Category::Ll) {
          any_cased = true;
          all = name == "islower";
        }
      }
    }
    if (name == "isupper" || name == "islower") return Value(all && any_cased);
    return Value(all);
  });
}

Value dict_method(const Value& self, const std::string& name) {
  if (name == "items" || name == "keys" || name == "values") {
    return bound("dict." + name, [self, name](Args&) -> Value {
      List out;
      for (const auto& [k, v] : self.dict().items()) {
        if (name == "items") out.push_back(Value::tuple(List{Value(k), v}));
        else if (name == "keys") out.push_back(Value(k));
        else out.push_back(v);
      }
      return Value::sequence(std::move(out), name == "items" ? Value::Seq::dict_items
                                             : name == "keys" ? Value::Seq::dict_keys
                                                              : Value::Seq::dict_values);
    });
  }
  if (name == "get") {
    return bound("dict.get", [self](Args& a) -> Value {
      const Value& key = arg(a, 0, "key", kUndef);
      if (key.is_string())
        if (const Value* v = self.dict().find(key.str())) return *v;
      return arg(a, 1, "default", kNone);
    });
  }
  if (name == "copy") return bound("dict.copy", [self](Args&) -> Value { return Value(Dict(self.dict())); });
  return Value();
}

bool is_dict_method_name(const std::string& n) {
  return n == "items" || n == "keys" || n == "values" || n == "get" || n == "copy" || n == "pop" || n == "update" ||
         n == "setdefault" || n == "clear" || n == "fromkeys" || n == "popitem";
}

// ---- attribute paths for map / selectattr / sort / groupby ----

Value attr_path(const Value& v, const Value& attribute) {
  if (attribute.is_int()) return get_item(v, attribute);
  if (!attribute.is_string()) throw Error("attribute must be a string or an integer");
  Value cur = v;
  const std::string& path = attribute.str();
  size_t a = 0;
  while (true) {
    const size_t dot = path.find('.', a);
    const std::string part = path.substr(a, dot == std::string::npos ? std::string::npos : dot - a);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    int64_t index = 0;
    if (digits && std::from_chars(part.data(), part.data() + part.size(), index).ec != std::errc()) digits = false;
    cur = digits ? get_item(cur, Value(index)) : get_item(cur, Value(part));
    if (dot == std::string::npos) break;
    a = dot + 1;
  }
  return cur;
}

// The rest of `a` from position `from` as the arguments of a test or filter.
Args rest_args(const Args& a, size_t from) {
  Args r;
  for (size_t i = from; i < a.pos.size(); ++i) r.pos.push_back(a.pos[i]);
  r.kw = a.kw;
  return r;
}

bool sort_less(const Value& x, const Value& y, bool case_sensitive) {
  if (!case_sensitive && x.is_string() && y.is_string()) return py_lower(x.str()) < py_lower(y.str());
  return less(x, y);
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string json_ascii(const std::string& s) {  // ensure_ascii=True: non-ASCII as \uXXXX (surrogate pairs)
  std::string out;
  static const char* hex = "0123456789abcdef";
  auto u = [&](uint32_t v) {
    out += "\\u";
    for (int k = 3; k >= 0; --k) out.push_back(hex[(v >> (4 * k)) & 15]);
  };
  for (size_t i = 0; i < s.size();) {
    const char32_t c = unicode::decode(s, i);
    if (c < 0x80) out.push_back(static_cast<char>(c));
    else if (c < 0x10000) u(c);
    else {
      const uint32_t v = c - 0x10000;
      u(0xD800 + (v >> 10));
      u(0xDC00 + (v & 0x3FF));
    }
  }
  return out;
}

const std::set<std::string>& filter_names() {
  static const std::set<std::string> n = {
      "abs", "attr", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first", "float",
      "forceescape", "format", "groupby", "indent", "int", "items", "join", "last", "length", "list", "lower", "map",
      "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort",
      "string", "striptags", "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "wordcount", "batch"};
  return n;
}

const std::set<std::string>& test_names() {
  static const std::set<std::string> n = {
      "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "escaped", "even", "false", "filter", "float",
      "ge", "gt", "greaterthan", "in", "integer", "iterable", "le", "lessthan", "lower", "lt", "mapping", "ne",
      "none", "number", "odd", "sameas", "sequence", "string", "test", "true", "undefined", "upper",
      "==", "!=", "<", "<=", ">", ">="};
  return n;
}

}  // namespace

bool has_filter(std::string_view name) { return filter_names().count(std::string(name)) != 0; }
bool has_test(std::string_view name) { return test_names().count(std::string(name)) != 0; }

size_t length_of(const Value& v) {
  if (v.is_string()) return unicode::count_chars(v.str());
  if (v.is_list()) return v.list().size();
  if (v.is_dict()) return v.dict().size();
  if (v.is_undefined()) return 0;
  throw Error(std::string("object of type '") + v.type_name() + "' has no len()");
}

List iterate(const Value& v) {
  if (v.is_list()) return v.list();
  if (v.is_undefined()) return {};
  if (v.is_dict() && !v.is_namespace()) {
    List out;
    for (const auto& kv : v.dict().items()) out.push_back(Value(kv.first));
    return out;
  }
  if (v.is_string()) {
    List out;
    for (std::string& c : chars_of(v.str())) out.push_back(Value(std::move(c)));
    return out;
  }
  throw Error(std::string("'") + v.type_name() + "' object is not iterable");
}

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) throw Error(obj.undefined_name() + " is undefined");
  if (obj.is_string()) return string_method(obj, name);
  if (obj.is_namespace()) {
    if (const Value* v = obj.dict().find(name)) return *v;
    return Value::undefined("'Namespace object' has no attribute '" + name + "'");
  }
  if (obj.is_dict()) {
    if (is_dict_method_name(name)) {
      Value m = dict_method(obj, name);
      if (!m.is_undefined()) return m;
      return Value::undefined("access to attribute '" + name + "' of 'dict' object is unsafe");
    }
    if (const Value* v = obj.dict().find(name)) return *v;
    return Value::undefined("'dict object' has no attribute '" + name + "'");
  }
  if (obj.is_list() && (name == "index" || name == "count")) {
    return bound("list." + name, [obj, name](Args& a) -> Value {
      const Value& x = arg(a, 0, "value", kUndef);
      int64_t n = 0, i = 0;
      for (const Value& v : obj.list()) {
        if (equal(v, x)) {
          if (name == "index") return Value(i);
          ++n;
        }
        ++i;
      }
      if (name == "index") throw Error(x.repr() + " is not in list");
      return Value(n);
    });
  }
  return Value::undefined(type_word(obj) + " has no attribute '" + name + "'");
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) throw Error(obj.undefined_name() + " is undefined");
  if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    const int64_t n = static_cast<int64_t>(obj.is_list() ? obj.list().size() : unicode::count_chars(obj.str()));
    int64_t i = key.is_bool() ? key.as_bool() : key.as_int();
    if (i < 0) i += n;
    if (i < 0 || i >= n) return Value::undefined(type_word(obj) + " has no element " + key.to_str());
    if (obj.is_list()) return obj.list()[static_cast<size_t>(i)];
    const std::string& s = obj.str();
    size_t p = 0;
    for (int64_t k = 0; k < i; ++k) p += unicode::char_len(static_cast<unsigned char>(s[p]));
    return Value(s.substr(p, unicode::char_len(static_cast<unsigned char>(s[p]))));
  }
  if (obj.is_dict() && key.is_string()) {
    if (const Value* v = obj.dict().find(key.str())) return *v;
  }
  if (key.is_string()) return get_attr(obj, key.str());
  return Value::undefined(type_word(obj) + " has no element " + key.repr());
}

Value get_slice(const Value& obj, const Value* start, const Value* stop, const Value* step) {
  if (obj.is_undefined()) throw Error(obj.undefined_name() + " is undefined");
  if (!obj.is_list() && !obj.is_string()) throw Error(std::string("'") + obj.type_name() + "' object is not subscriptable");
  auto idx = [](const Value* v, bool& given) -> int64_t {
    given = v && !v->is_none();
    if (!given) return 0;
    if (!v->is_int() && !v->is_bool()) throw Error("slice indices must be integers or None");
    return v->is_bool() ? v->as_bool() : v->as_int();
  };
  bool has_start, has_stop, has_step;
  int64_t st = idx(start, has_start), en = idx(stop, has_stop), k = idx(step, has_step);
  if (!has_step) k = 1;
  if (k == 0) throw Error("slice step cannot be zero");
  std::vector<std::string> cs;
  const int64_t n = obj.is_list() ? static_cast<int64_t>(obj.list().size())
                                  : static_cast<int64_t>((cs = chars_of(obj.str())).size());
  // CPython's PySlice_AdjustIndices.
  auto adjust = [&](int64_t& v, bool given, int64_t dflt) {
    if (!given) {
      v = dflt;
      return;
    }
    if (v < 0) {
      v += n;
      if (v < 0) v = k < 0 ? -1 : 0;
    } else if (v >= n) {
      v = k < 0 ? n - 1 : n;
    }
  };
  adjust(st, has_start, k < 0 ? n - 1 : 0);
  adjust(en, has_stop, k < 0 ? -1 : n);
  List out;
  std::string s;
  for (int64_t i = st; k > 0 ? i < en : i > en; i += k) {
    if (obj.is_list()) out.push_back(obj.list()[static_cast<size_t>(i)]);
    else s += cs[static_cast<size_t>(i)];
  }
  return obj.is_list() ? Value(std::move(out)) : Value(std::move(s));
}

bool apply_test(const std::string& name, const Value& v, Args& a) {
  const Value& x = arg(a, 0, "other", kUndef);
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "number") return v.is_number() || v.is_bool();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict() && !v.is_namespace();
  if (name == "iterable") return v.is_string() || v.is_list() || (v.is_dict() && !v.is_namespace()) || v.is_undefined();
  if (name == "sequence") return v.is_string() || v.is_list() || (v.is_dict() && !v.is_namespace());
  if (name == "callable") return v.is_function();
  if (name == "escaped") return false;
  if (name == "sameas") {
    if (v.is_none() || x.is_none() || v.is_bool() || x.is_bool()) return v.kind() == x.kind() && equal(v, x);
    if (v.is_list() || v.is_dict() || v.is_string()) return v.kind() == x.kind() && &v == &x;
    return v.kind() == x.kind() && equal(v, x);
  }
  if (name == "lower" || name == "upper") {
    Args none;
    return string_method(Value(soft_str(v)), name == "lower" ? "islower" : "isupper").function().call(none).truthy();
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (!v.is_int() && !v.is_bool()) throw Error(std::string("unsupported operand type(s) for %: '") + v.type_name() + "' and 'int'");
    const int64_t n = v.is_bool() ? v.as_bool() : v.as_int();
    if (name == "odd") return n % 2 != 0;
    if (name == "even") return n % 2 == 0;
    const int64_t d = int_arg(a, 0, "num", 0);
    if (d == 0) throw Error("integer division or modulo by zero");
    return n % d == 0;
  }
  if (name == "eq" || name == "equalto" || name == "==") return equal(v, x);
  if (name == "ne" || name == "!=") return !equal(v, x);
  if (name == "lt" || name == "lessthan" || name == "<") return less(v, x);
  if (name == "le" || name == "<=") return !less(x, v);
  if (name == "gt" || name == "greaterthan" || name == ">") return less(x, v);
  if (name == "ge" || name == ">=") return !less(v, x);
  if (name == "in") {
    const Value& seq = arg(a, 0, "seq", kUndef);
    if (seq.is_string()) return v.is_string() && seq.str().find(v.str()) != std::string::npos;
    if (seq.is_dict()) return v.is_string() && seq.dict().find(v.str());
    for (const Value& e : iterate(seq))
      if (equal(e, v)) return true;
    return false;
  }
  if (name == "filter") return v.is_string() && has_filter(v.str());
  if (name == "test") return v.is_string() && has_test(v.str());
  throw Error("no test named '" + name + "'");
}

Value apply_filter(const std::string& name, const Value& v, Args& a) {
  if (name == "safe" || name == "string") return Value(soft_str(v));
  if (name == "e" || name == "escape" || name == "forceescape") return Value(html_escape(soft_str(v)));
  if (name == "trim") {
    const Value& c = arg(a, 0, "chars", kNone);
    return Value(py_strip_chars(soft_str(v), c.is_string() ? &c.str() : nullptr, true, true));
  }
  if (name == "upper") return Value(py_upper(soft_str(v)));
  if (name == "lower") return Value(py_lower(soft_str(v)));
  if (name == "capitalize") return Value(py_capitalize(soft_str(v)));
  if (name == "title") {
    // jinja2: words split at [-\s({\[<]+, each capitalized.
    const std::string s = soft_str(v);
    std::string out;
    bool start = true;
    for (size_t i = 0; i < s.size();) {
      const char32_t c = unicode::decode(s, i);
      const bool sep = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || unicode::is_py_space(c);
      unicode::append_utf8(out, sep ? c : start ? upper_of(c) : lower_of(c));
      start = sep;
    }
    return Value(out);
  }
  if (name == "replace") {
    return Value(py_replace(soft_str(v), soft_str(arg(a, 0, "old", kUndef)), soft_str(arg(a, 1, "new", kUndef)),
                            int_arg(a, 2, "count", -1)));
  }
  if (name == "length" || name == "count") return Value(static_cast<int64_t>(length_of(v)));
  if (name == "wordcount") return Value(static_cast<int64_t>(py_split(soft_str(v), kNone, -1, false).size()));
  if (name == "default" || name == "d") {
    const bool boolean = arg(a, 1, "boolean", Value(false)).truthy();
    if (v.is_undefined() || (boolean && !v.truthy())) return arg(a, 0, "default_value", Value(""));
    return v;
  }
  if (name == "tojson") {
    const Value ascii = arg(a, 0, "ensure_ascii", Value(false));
    const Value& indent = arg(a, 1, "indent", kNone);
    const Value& seps = arg(a, 2, "separators", kNone);
    const bool sort = arg(a, 3, "sort_keys", Value(false)).truthy();
    int ind = -1;
    if (indent.is_int()) ind = static_cast<int>(std::clamp<int64_t>(indent.as_int(), 0, 64));
    else if (!indent.is_none()) throw Error("tojson: indent must be an integer");
    std::string item_sep, key_sep;
    if (seps.is_list() && seps.list().size() == 2 && seps.list()[0].is_string() && seps.list()[1].is_string()) {
      item_sep = seps.list()[0].str();
      key_sep = seps.list()[1].str();
      if (item_sep.empty()) item_sep = std::string(1, '\0');  // json.dumps takes "" literally
    } else if (!seps.is_none()) {
      throw Error("tojson: separators must be a pair of strings");
    }
    std::string out = to_json(v, ind, sort, item_sep, key_sep);
    if (item_sep == std::string(1, '\0')) out.erase(std::remove(out.begin(), out.end(), '\0'), out.end());
    return Value(ascii.truthy() ? json_ascii(out) : out);
  }
  if (name == "join") {
    const Value& attribute = arg(a, 1, "attribute", kNone);
    std::string sep = soft_str(arg(a, 0, "d", Value("")));
    std::string out;
    const List items = iterate(v);
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += sep;
      out += soft_str(attribute.is_none() ? items[i] : attr_path(items[i], attribute));
    }
    return Value(out);
  }
  if (name == "items") {
    if (v.is_undefined()) return Value(List{});
    if (!v.is_dict()) throw Error(std::string("can only get item pairs from a mapping, not ") + v.type_name());
    List out;
    for (const auto& [k, x] : v.dict().items()) out.push_back(Value::tuple(List{Value(k), x}));
    return Value(std::move(out));
  }
  if (name == "list") return Value(iterate(v));
  if (name == "first") {
    const List items = iterate(v);
    return items.empty() ? Value::undefined("'No first item, sequence was empty.'") : items.front();
  }
  if (name == "last") {
    const List items = iterate(v);
    return items.empty() ? Value::undefined("'No last item, sequence was empty.'") : items.back();
  }
  if (name == "reverse") {
    if (v.is_string()) {
      std::vector<std::string> cs = chars_of(v.str());
      std::string out;
      for (size_t i = cs.size(); i-- > 0;) out += cs[i];
      return Value(out);
    }
    List items = iterate(v);
    std::reverse(items.begin(), items.end());
    return Value(std::move(items));
  }
  if (name == "attr") {  // getattr only: a dict's keys are not its attributes
    const std::string n = soft_str(arg(a, 0, "name", kUndef));
    if (v.is_dict() && !v.is_namespace() && !is_dict_method_name(n)) return Value::undefined("'dict object' has no attribute '" + n + "'");
    return get_attr(v, n);
  }
  if (name == "int") {
    const int64_t dflt = int_arg(a, 0, "default", 0);
    if (v.is_int()) return v;
    if (v.is_bool()) return Value(static_cast<int64_t>(v.as_bool()));
    if (v.is_float()) return std::isfinite(v.as_float()) ? Value(static_cast<int64_t>(v.as_float())) : Value(dflt);
    if (v.is_string()) {
      const std::string s(unicode::py_strip(v.str()));
      try {
        size_t used = 0;
        const long long r = std::stoll(s, &used, static_cast<int>(int_arg(a, 1, "base", 10)));
        if (used == s.size()) return Value(static_cast<int64_t>(r));
      } catch (const std::exception&) {
      }
      try {
        size_t used = 0;
        const double d = std::stod(s, &used);
        if (used == s.size() && std::isfinite(d)) return Value(static_cast<int64_t>(d));
      } catch (const std::exception&) {
      }
    }
    return Value(dflt);
  }
  if (name == "float") {
    const Value dflt = arg(a, 0, "default", Value(0.0));
    if (v.is_number() || v.is_bool()) return Value(v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_float());
    if (v.is_string()) {
      const std::string s(unicode::py_strip(v.str()));
      try {
        size_t used = 0;
        const double d = std::stod(s, &used);
        if (used == s.size()) return Value(d);
      } catch (const std::exception&) {
      }
    }
    return dflt;
  }
  if (name == "abs") {
    if (v.is_int()) return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    if (v.is_float()) return Value(std::fabs(v.as_float()));
    if (v.is_bool()) return Value(static_cast<int64_t>(v.as_bool()));
    throw Error(std::string("bad operand type for abs(): '") + v.type_name() + "'");
  }
  if (name == "round") {
    const int64_t precision = int_arg(a, 0, "precision", 0);
    const std::string method = has_arg(a, 1, "method") ? str_arg(a, 1, "method") : "common";
    if (!v.is_number() && !v.is_bool()) throw Error("round: a number is required");
    const double x = v.is_bool() ? v.as_bool() : v.as_float(), m = std::pow(10.0, static_cast<double>(precision));
    double r;
    if (method == "common") r = std::nearbyint(x * m) / m;  // Python's round(): half to even
    else if (method == "ceil") r = std::ceil(x * m) / m;
    else if (method == "floor") r = std::floor(x * m) / m;
    else throw Error("method must be common, ceil or floor");
    return Value(r);
  }
  if (name == "sum") {
    const Value& attribute = arg(a, 0, "attribute", kNone);
    Value total = arg(a, 1, "start", Value(int64_t{0}));
    for (const Value& x : iterate(v)) {
      const Value y = attribute.is_none() ? x : attr_path(x, attribute);
      if (!(y.is_number() || y.is_bool()) || !(total.is_number() || total.is_bool()))
        throw Error(std::string("unsupported operand type(s) for +: '") + total.type_name() + "' and '" + y.type_name() + "'");
      if (total.is_int() && (y.is_int() || y.is_bool())) total = Value(total.as_int() + (y.is_bool() ? y.as_bool() : y.as_int()));
      else total = Value(total.as_float() + (y.is_bool() ? y.as_bool() : y.as_float()));
    }
    return total;
  }
  if (name == "min" || name == "max" || name == "sort" || name == "unique" || name == "dictsort") {
    const bool cs = arg(a, name == "sort" ? 1 : 0, "case_sensitive", Value(false)).truthy();
    if (name == "dictsort") {
      if (!v.is_dict()) throw Error("dictsort: a mapping is required");
      const std::string by = has_arg(a, 1, "by") ? str_arg(a, 1, "by") : "key";
      const bool rev = arg(a, 2, "reverse", Value(false)).truthy();
      List items;
      for (const auto& [k, x] : v.dict().items()) items.push_back(Value::tuple(List{Value(k), x}));
      const size_t pos = by == "value" ? 1 : 0;
      std::stable_sort(items.begin(), items.end(), [&](const Value& p, const Value& q) {
        return rev ? sort_less(q.list()[pos], p.list()[pos], cs) : sort_less(p.list()[pos], q.list()[pos], cs);
      });
      return Value(std::move(items));
    }
    const Value& attribute = arg(a, name == "sort" ? 2 : name == "unique" ? 1 : 1, "attribute", kNone);
    auto key = [&](const Value& x) { return attribute.is_none() ? x : attr_path(x, attribute); };
    List items = iterate(v);
    if (name == "sort") {
      const bool rev = arg(a, 0, "reverse", Value(false)).truthy();
      std::stable_sort(items.begin(), items.end(), [&](const Value& p, const Value& q) {
        return rev ? sort_less(key(q), key(p), cs) : sort_less(key(p), key(q), cs);
      });
      return Value(std::move(items));
    }
    if (name == "unique") {
      List out;
      std::vector<Value> seen;
      for (const Value& x : items) {
        Value k = key(x);
        if (!cs && k.is_string()) k = Value(py_lower(k.str()));
        bool dup = false;
        for (const Value& s : seen) dup |= equal(s, k);
        if (dup) continue;
        seen.push_back(k);
        out.push_back(x);
      }
      return Value(std::move(out));
    }
    if (items.empty()) return Value::undefined("'No aggregated item, sequence was empty.'");
    size_t best = 0;
    for (size_t i = 1; i < items.size(); ++i) {
      const bool better = name == "min" ? sort_less(key(items[i]), key(items[best]), cs) : sort_less(key(items[best]), key(items[i]), cs);
      if (better) best = i;
    }
    return items[best];
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    const bool by_attr = name == "selectattr" || name == "rejectattr";
    const bool keep_if = name == "select" || name == "selectattr";
    const size_t test_at = by_attr ? 1 : 0;
    const Value attribute = by_attr ? arg(a, 0, "attr", kUndef) : Value();
    const bool has_test_name = a.pos.size() > test_at;
    const std::string test = has_test_name ? soft_str(a.pos[test_at]) : std::string();
    if (has_test_name && !has_test(test)) throw Error("no test named '" + test + "'");
    Args targs = rest_args(a, test_at + 1);
    List out;
    for (const Value& x : iterate(v)) {
      const Value y = by_attr ? attr_path(x, attribute) : x;
      const bool ok = has_test_name ? apply_test(test, y, targs) : y.truthy();
      if (ok == keep_if) out.push_back(x);
    }
    return Value(std::move(out));
  }
  if (name == "map") {
    List out;
    const Value attribute = arg(a, 99, "attribute", kUndef);
    if (!attribute.is_undefined()) {
      const Value& dflt = arg(a, 99, "default", kUndef);
      for (const Value& x : iterate(v)) {
        Value y = attr_path(x, attribute);
        out.push_back(y.is_undefined() && !dflt.is_undefined() ? dflt : y);
      }
      return Value(std::move(out));
    }
    if (a.pos.empty()) throw Error("map requires a filter name or attribute=");
    const std::string f = soft_str(a.pos[0]);
    if (!has_filter(f)) throw Error("no filter named '" + f + "'");
    Args fargs = rest_args(a, 1);
    for (const Value& x : iterate(v)) {
      Args copy = fargs;
      out.push_back(apply_filter(f, x, copy));
    }
    return Value(std::move(out));
  }
  if (name == "indent") {
    const Value w = arg(a, 0, "width", Value(int64_t{4}));
    const std::string pad = w.is_string() ? w.str() : std::string(static_cast<size_t>(std::clamp<int64_t>(w.is_int() ? w.as_int() : 4, 0, 1024)), ' ');
    const bool first = arg(a, 1, "first", Value(false)).truthy();
    const bool blank = arg(a, 2, "blank", Value(false)).truthy();
    // jinja2's do_indent: a newline appended, split as str.splitlines(), joined back.
    const List lines = py_splitlines(soft_str(v) + "\n", false);
    std::string out;
    if (blank) {
      for (size_t i = 0; i < lines.size(); ++i) out += (i ? "\n" + pad : std::string()) + lines[i].str();
    } else {
      out = lines.empty() ? std::string() : lines[0].str();
      for (size_t i = 1; i < lines.size(); ++i) out += "\n" + (lines[i].str().empty() ? std::string() : pad) + lines[i].str();
    }
    if (first) out = pad + out;
    return Value(out);
  }
  if (name == "center") {
    Args ca;
    ca.pos.push_back(arg(a, 0, "width", Value(int64_t{80})));
    return string_method(Value(soft_str(v)), "center").function().call(ca);
  }
  if (name == "truncate") {
    const int64_t length = int_arg(a, 0, "length", 255);
    const bool killwords = arg(a, 1, "killwords", Value(false)).truthy();
    const std::string end = has_arg(a, 2, "end") ? str_arg(a, 2, "end") : "...";
    const int64_t leeway = int_arg(a, 3, "leeway", 5);
    if (length < static_cast<int64_t>(unicode::count_chars(end)))
      throw Error("expected length >= " + std::to_string(unicode::count_chars(end)) + ", got " + std::to_string(length));
    const std::string s = soft_str(v);
    std::vector<std::string> cs = chars_of(s);
    if (static_cast<int64_t>(cs.size()) <= length + leeway) return Value(s);
    const int64_t keep = std::max<int64_t>(0, length - static_cast<int64_t>(unicode::count_chars(end)));
    std::string head;
    for (int64_t i = 0; i < keep && i < static_cast<int64_t>(cs.size()); ++i) head += cs[static_cast<size_t>(i)];
    if (!killwords) {
      const size_t sp = head.rfind(' ');
      if (sp != std::string::npos) head.resize(sp);
    }
    return Value(head + end);
  }
  if (name == "batch") {
    const int64_t n = int_arg(a, 0, "linecount", 0);
    if (n <= 0) throw Error("batch: linecount must be positive");
    const Value& fill = arg(a, 1, "fill_with", kNone);
    List out, cur;
    for (const Value& x : iterate(v)) {
      cur.push_back(x);
      if (static_cast<int64_t>(cur.size()) == n) {
        out.push_back(Value(std::move(cur)));
        cur.clear();
      }
    }
    if (!cur.empty()) {
      if (!fill.is_none())
        while (static_cast<int64_t>(cur.size()) < n) cur.push_back(fill);
      out.push_back(Value(std::move(cur)));
    }
    return Value(std::move(out));
  }
  if (name == "format") {
    // printf-style: %s, %d, %i, %r and %% only.
    const std::string fmt = soft_str(v);
    std::string out;
    size_t k = 0;
    for (size_t i = 0; i < fmt.size(); ++i) {
      if (fmt[i] != '%') {
        out.push_back(fmt[i]);
        continue;
      }
      if (i + 1 >= fmt.size()) throw Error("incomplete format");
      const char c = fmt[++i];
      if (c == '%') {
        out.push_back('%');
        continue;
      }
      if (k >= a.pos.size()) throw Error("not enough arguments for format string");
      const Value& x = a.pos[k++];
      if (c == 's') out += soft_str(x);
      else if (c == 'r') out += x.repr();
      else if (c == 'd' || c == 'i') {
        if (!x.is_number() && !x.is_bool()) throw Error(std::string("%d format: a real number is required, not ") + x.type_name());
        out += std::to_string(x.is_int() ? x.as_int() : x.is_bool() ? x.as_bool() : static_cast<int64_t>(x.as_float()));
      } else {
        throw Error(std::string("unsupported format character '") + c + "'");
      }
    }
    if (k < a.pos.size()) throw Error("not all arguments converted during string formatting");
    return Value(out);
  }
  if (name == "striptags") {
    const std::string s = soft_str(v);
    std::string out;
    bool in_tag = false;
    for (char c : s) {
      if (c == '<') in_tag = true;
      else if (c == '>' && in_tag) in_tag = false;
      else if (!in_tag) out.push_back(c);
    }
    return Value(std::string(unicode::py_strip(out)));
  }
  if (name == "groupby") throw Error("the groupby filter is not supported");
  throw Error("no filter named '" + name + "'");
}

}  // namespace tokalign::chat::jinja
