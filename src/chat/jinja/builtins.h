// jinja2's filters and tests, transformers' additions (tojson with ensure_ascii=False), and
// the Python methods templates call on str, dict and list values (strip, split, items, get,
// ...), with Python's results. Errors are tokalign::Error without a position; the
// interpreter adds it.
#pragma once

#include <string>
#include <string_view>

#include "chat/jinja/value.h"

namespace tokalign::chat::jinja {

bool has_filter(std::string_view name);
bool has_test(std::string_view name);

Value apply_filter(const std::string& name, const Value& v, Args& args);
bool apply_test(const std::string& name, const Value& v, Args& args);

// obj.name as jinja2's sandbox resolves it: a method of str / dict / list first, then a dict
// key; undefined when there is neither (an error when obj itself is undefined).
Value get_attr(const Value& obj, const std::string& name);
// obj[key]: a list / str index (negative from the end), a dict key, else an attribute.
Value get_item(const Value& obj, const Value& key);
// obj[start:stop:step] on a list or str (null bounds: omitted).
Value get_slice(const Value& obj, const Value* start, const Value* stop, const Value* step);

// Python len(); throws for values without one.
size_t length_of(const Value& v);
// The items a `for` loop or a filter iterates: list items, dict keys, a string's chars;
// nothing for undefined; throws for others.
List iterate(const Value& v);

// Python str(v) as jinja2 prints it (undefined: "").
inline std::string soft_str(const Value& v) { return v.to_str(); }

}  // namespace tokalign::chat::jinja
