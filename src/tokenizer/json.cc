#include "tokenizer/json.h"

#include "util/error.h"

namespace tokalign::tok {

void Json::fail(const std::string& what) const {
  throw Error(*source_ + ": at " + (path_.empty() ? "top level" : path_) + ": " + what);
}

Json Json::get(std::string_view key) const {
  simdjson::dom::object obj;
  if (e_.get_object().get(obj)) fail("expected an object");
  simdjson::dom::element v;
  if (obj.at_key(key).get(v)) fail("missing field \"" + std::string(key) + "\"");
  return Json(v, source_, path_.empty() ? std::string(key) : path_ + "." + std::string(key));
}

std::optional<Json> Json::find(std::string_view key) const {
  simdjson::dom::object obj;
  if (e_.get_object().get(obj)) fail("expected an object");
  simdjson::dom::element v;
  if (obj.at_key(key).get(v) || v.is_null()) return std::nullopt;
  return Json(v, source_, path_.empty() ? std::string(key) : path_ + "." + std::string(key));
}

std::string_view Json::str() const {
  std::string_view s;
  if (e_.get_string().get(s)) fail("expected a string");
  return s;
}

bool Json::boolean() const {
  bool b;
  if (e_.get_bool().get(b)) fail("expected true or false");
  return b;
}

int64_t Json::integer() const {
  int64_t i;
  if (e_.get_int64().get(i)) {
    uint64_t u;
    if (e_.get_uint64().get(u) == simdjson::SUCCESS) fail("integer out of range");
    fail("expected an integer");
  }
  return i;
}

double Json::number() const {
  double d;
  if (e_.get_double().get(d) == simdjson::SUCCESS) return d;
  int64_t i;
  if (e_.get_int64().get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  fail("expected a number");
}

std::vector<Json> Json::array() const {
  simdjson::dom::array arr;
  if (e_.get_array().get(arr)) fail("expected an array");
  std::vector<Json> out;
  out.reserve(arr.size());
  size_t i = 0;
  for (simdjson::dom::element v : arr) out.emplace_back(v, source_, path_ + "[" + std::to_string(i++) + "]");
  return out;
}

bool Json::boolean_or(std::string_view key, bool dflt) const {
  auto v = find(key);
  return v ? v->boolean() : dflt;
}

std::string Json::str_or(std::string_view key, std::string_view dflt) const {
  auto v = find(key);
  return std::string(v ? v->str() : dflt);
}

std::optional<std::string> Json::opt_str(std::string_view key) const {
  auto v = find(key);
  if (!v) return std::nullopt;
  return std::string(v->str());
}

}  // namespace tokalign::tok
