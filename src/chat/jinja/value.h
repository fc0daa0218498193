// The values a Jinja chat template computes with, with Python's meaning: what jinja2 (as
// transformers runs it) does with str, int, float, bool, None, list, dict and its own
// Undefined. Strings are UTF-8 and count, index and slice by code point, as Python does.
// Lists, dicts and strings are immutable and shared (copying a Value is cheap); the one
// mutable kind is a namespace(), which templates use to carry state out of loops.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tokalign::chat::jinja {

class Value;
class Dict;
struct Args;
struct Function;
using List = std::vector<Value>;

class Value {
 public:
  enum class Kind : uint8_t { undefined, none, boolean, integer, floating, string, list, dict, ns, function };

  Value() = default;  // undefined
  static Value none() { return Value(Kind::none); }
  Value(bool b) : kind_(Kind::boolean), b_(b) {}
  Value(int v) : kind_(Kind::integer), i_(v) {}
  Value(int64_t v) : kind_(Kind::integer), i_(v) {}
  Value(double v) : kind_(Kind::floating), f_(v) {}
  Value(std::string s) : kind_(Kind::string), s_(std::make_shared<const std::string>(std::move(s))) {}
  Value(const char* s) : Value(std::string(s)) {}
  Value(std::string_view s) : Value(std::string(s)) {}
  Value(List l) : kind_(Kind::list), l_(std::make_shared<const List>(std::move(l))) {}
  Value(Dict d);
  Value(Function f);
  static Value namespace_of(Dict d);  // namespace(...): a dict whose attributes `set` may change
  // A list that Python holds as another sequence type, which shows in repr() and ==.
  enum class Seq : uint8_t { list, tuple, dict_items, dict_keys, dict_values };
  static Value sequence(List l, Seq kind);
  static Value tuple(List l) { return sequence(std::move(l), Seq::tuple); }
  Seq seq_kind() const { return seq_; }

  // An undefined value that remembers what was looked up, for the error when it is used.
  static Value undefined(std::string what);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::undefined; }
  bool is_none() const { return kind_ == Kind::none; }
  bool is_bool() const { return kind_ == Kind::boolean; }
  bool is_int() const { return kind_ == Kind::integer; }
  bool is_float() const { return kind_ == Kind::floating; }
  bool is_number() const { return kind_ == Kind::integer || kind_ == Kind::floating; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_list() const { return kind_ == Kind::list; }
  bool is_dict() const { return kind_ == Kind::dict || kind_ == Kind::ns; }
  bool is_namespace() const { return kind_ == Kind::ns; }
  bool is_function() const { return kind_ == Kind::function; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return i_; }
  double as_float() const { return kind_ == Kind::integer ? static_cast<double>(i_) : f_; }
  const std::string& str() const { return *s_; }
  const List& list() const { return *l_; }
  const Dict& dict() const { return *d_; }
  Dict& mutable_namespace() const { return *d_; }
  const Function& function() const { return *fn_; }
  const std::string& undefined_name() const;

  bool truthy() const;        // Python bool()
  std::string to_str() const;  // Python str() (jinja2's Undefined prints as "")
  std::string repr() const;    // Python repr()
  const char* type_name() const;

 private:
  explicit Value(Kind k) : kind_(k) {}
  Kind kind_ = Kind::undefined;
  Seq seq_ = Seq::list;
  bool b_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::shared_ptr<const std::string> s_;  // string, or an undefined value's name
  std::shared_ptr<const List> l_;
  std::shared_ptr<Dict> d_;
  std::shared_ptr<const Function> fn_;
};

// An insertion-ordered dict (Python 3.7+ dicts, JSON objects as json.loads reads them).
class Dict {
 public:
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  void set(std::string key, Value v);  // replaces in place, or appends
  const std::vector<std::pair<std::string, Value>>& items() const { return items_; }
  size_t size() const { return items_.size(); }

 private:
  std::vector<std::pair<std::string, Value>> items_;
};

// A call's arguments: positional, then keyword.
struct Args {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
};

// A function value: a builtin global, a bound method, or a template macro.
struct Function {
  std::string name;
  std::function<Value(Args&)> call;
};

inline Value::Value(Dict d) : kind_(Kind::dict), d_(std::make_shared<Dict>(std::move(d))) {}
inline Value::Value(Function f) : kind_(Kind::function), fn_(std::make_shared<const Function>(std::move(f))) {}

// Python ==.
bool equal(const Value& a, const Value& b);
// Python <, for numbers, strings and lists; throws for other kinds.
bool less(const Value& a, const Value& b);

// Python's repr of a float (shortest round-trip digits, "1e+16", "inf", "nan").
std::string float_repr(double v);
// Python's repr of a str.
std::string string_repr(std::string_view s);

// json.dumps(v, ensure_ascii=False, indent=indent, separators=..., sort_keys=...) as
// transformers' tojson filter calls it; indent < 0: none.
std::string to_json(const Value& v, int indent, bool sort_keys, std::string_view item_sep = {},
                    std::string_view key_sep = {});

// Parses a JSON document into a Value (objects keep their key order; integers stay
// integers, as json.loads reads them). Throws tokalign::Error.
Value from_json(std::string_view json);

}  // namespace tokalign::chat::jinja
