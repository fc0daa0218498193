// Typed access to tokenizer.json values with errors that say where: every accessor
// throws tokalign::Error "SOURCE: at PATH: expected TYPE" (simdjson DOM underneath).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tokalign::tok {

class Json {
 public:
  Json(simdjson::dom::element e, const std::string* source, std::string path)
      : e_(e), source_(source), path_(std::move(path)) {}

  bool is_null() const { return e_.is_null(); }
  bool is_object() const { return e_.is_object(); }
  bool is_array() const { return e_.is_array(); }
  bool is_string() const { return e_.is_string(); }
  const std::string& path() const { return path_; }
  simdjson::dom::element element() const { return e_; }

  // Member access: `get` throws when missing; `find` returns nullopt when missing or null.
  Json get(std::string_view key) const;
  std::optional<Json> find(std::string_view key) const;

  std::string_view str() const;
  bool boolean() const;
  int64_t integer() const;
  double number() const;
  std::vector<Json> array() const;
  template <class F>
  void for_each_member(F f) const {
    simdjson::dom::object obj;
    if (e_.get_object().get(obj)) fail("expected an object");
    for (auto [k, v] : obj) f(std::string_view(k), Json(v, source_, path_.empty() ? std::string(k) : path_ + "." + std::string(k)));
  }

  // Optional members with defaults.
  bool boolean_or(std::string_view key, bool dflt) const;
  std::string str_or(std::string_view key, std::string_view dflt) const;
  std::optional<std::string> opt_str(std::string_view key) const;

  [[noreturn]] void fail(const std::string& what) const;

 private:
  simdjson::dom::element e_;
  const std::string* source_;
  std::string path_;
};

}  // namespace tokalign::tok
