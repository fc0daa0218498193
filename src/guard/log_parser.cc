#include "guard/log_parser.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cmath>
#include <limits>
#include <vector>

#include "util/error.h"

namespace tokalign::guard {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// The metric a key names, or 0. Keys as HF Trainer, Python json dumps of it, wandb-style
// "train/..." and Megatron name them.
enum class Key { None, Loss, GradNorm, LearningRate, Epoch, Step, EvalLoss };

Key classify_key(std::string_view k) {
  if (k.substr(0, 6) == "train/") k.remove_prefix(6);
  if (k == "loss" || k == "lm_loss" || k == "lm loss") return Key::Loss;
  if (k == "grad_norm" || k == "grad-norm" || k == "grad norm" || k == "gradient_norm") return Key::GradNorm;
  if (k == "learning_rate" || k == "lr" || k == "learning rate") return Key::LearningRate;
  if (k == "epoch") return Key::Epoch;
  if (k == "step" || k == "global_step" || k == "iteration" || k == "iter") return Key::Step;
  if (k == "eval_loss" || k == "eval/loss") return Key::EvalLoss;
  return Key::None;
}

// Stores v under key k; false when k is not a metric.
bool assign(Metrics& m, Key k, double v) {
  switch (k) {
    case Key::Loss: m.loss = v; return true;
    case Key::GradNorm: m.grad_norm = v; return true;
    case Key::LearningRate: m.learning_rate = v; return true;
    case Key::Epoch: m.epoch = v; return true;
    case Key::EvalLoss: m.eval_loss = v; return true;
    case Key::Step:
      if (std::isfinite(v) && v >= 0 && v < 9e15 && v == std::floor(v)) {
        m.step = static_cast<int64_t>(v);
        return true;
      }
      return false;
    case Key::None: return false;
  }
  return false;
}

// A scanner over one dict literal: {'k': v, "k": v, ...}, Python or JSON flavoured.
class DictScanner {
 public:
  explicit DictScanner(std::string_view s) : s_(s) {}

  // Parses the dict starting at s_[0] == '{'. Returns false when it is not a dict literal.
  bool parse(Metrics& m, bool& any_metric) {
    any_metric = false;
    if (!eat('{')) return false;
    skip_ws();
    if (eat('}')) return true;
    for (;;) {
      skip_ws();
      std::string key;
      if (!string_literal(key)) return false;
      skip_ws();
      if (!eat(':')) return false;
      skip_ws();
      size_t start = pos_;
      if (!skip_value()) return false;
      std::string_view raw = s_.substr(start, pos_ - start);
      Key k = classify_key(key);
      if (k != Key::None) {
        if (auto v = parse_number(raw)) any_metric |= assign(m, k, *v);
      }
      skip_ws();
      if (eat(',')) continue;
      return eat('}');
    }
  }

 private:
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void skip_ws() {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
  }
  // '...' or "..." with backslash escapes kept verbatim except for the quote itself.
  bool string_literal(std::string& out) {
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) return false;
    char q = s_[pos_++];
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == q) return true;
      if (c == '\\' && pos_ < s_.size()) c = s_[pos_++];
      out.push_back(c);
    }
    return false;
  }
  // One value: a string, or anything up to the ',' or '}' that ends it at depth 0, with
  // brackets and strings balanced (tensor(...), lists, nested dicts).
  bool skip_value() {
    int depth = 0;
    size_t begin = pos_;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '\'' || c == '"') {
        std::string ignored;
        if (!string_literal(ignored)) return false;
        continue;
      }
      if (c == '(' || c == '[' || c == '{') {
        ++depth;
      } else if (c == ')' || c == ']' || c == '}') {
        if (depth == 0) return c == '}' && pos_ > begin;
        --depth;
      } else if (c == ',' && depth == 0) {
        return pos_ > begin;
      }
      ++pos_;
    }
    return false;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

LogFormat parse_log_format(std::string_view name) {
  if (name == "auto") return LogFormat::Auto;
  if (name == "hf" || name == "json" || name == "dict") return LogFormat::Dict;
  if (name == "megatron") return LogFormat::Megatron;
  if (name == "regex") return LogFormat::Regex;
  throw Error("unknown log format '" + std::string(name) + "' (expected auto, hf, json, megatron or regex)");
}

std::optional<double> parse_number(std::string_view v) {
  v = trim(v);
  if (starts_with(v, "tensor(")) {
    // tensor(2.3456, device='cuda:0', grad_fn=...) -> the first argument.
    v.remove_prefix(7);
    size_t end = v.find_first_of(",)");
    if (end == std::string_view::npos) return std::nullopt;
    v = trim(v.substr(0, end));
  }
  if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front())
    v = trim(v.substr(1, v.size() - 2));
  if (v.empty()) return std::nullopt;
  bool negative = false;
  if (v.front() == '+' || v.front() == '-') {
    negative = v.front() == '-';
    v.remove_prefix(1);
  }
  if (v.empty() || v.front() == '+' || v.front() == '-') return std::nullopt;
  double out = 0;
  if (iequals(v, "nan")) {
    out = std::numeric_limits<double>::quiet_NaN();
  } else if (iequals(v, "inf") || iequals(v, "infinity")) {
    out = std::numeric_limits<double>::infinity();
  } else {
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    // Out of range (1e999, 1e-999) is still a number: from_chars reports it without a
    // value, strtod (the "C" locale: the command never calls setlocale) gives HUGE_VAL or
    // the nearest tiny value.
    if (ec == std::errc::result_out_of_range && ptr == v.data() + v.size()) {
      std::string copy(v);
      out = std::strtod(copy.c_str(), nullptr);
    } else if (ec != std::errc() || ptr != v.data() + v.size()) {
      return std::nullopt;
    }
  }
  return negative ? -out : out;
}

std::optional<Metrics> parse_dict_line(std::string_view line) {
  for (size_t at = line.find('{'); at != std::string_view::npos; at = line.find('{', at + 1)) {
    size_t q = at + 1;
    while (q < line.size() && is_space(line[q])) ++q;
    if (q >= line.size() || (line[q] != '\'' && line[q] != '"')) continue;
    Metrics m;
    bool any = false;
    DictScanner scanner(line.substr(at));
    if (scanner.parse(m, any) && any && (m.loss || m.grad_norm || m.eval_loss)) return m;
  }
  return std::nullopt;
}

std::optional<Metrics> parse_megatron_line(std::string_view line) {
  // "iteration" spaces digits spaces? "/" spaces? digits spaces? "|"
  for (size_t at = line.find("iteration"); at != std::string_view::npos; at = line.find("iteration", at + 1)) {
    size_t p = at + 9;
    size_t sp = p;
    while (p < line.size() && line[p] == ' ') ++p;
    if (p == sp) continue;
    size_t d0 = p;
    int64_t iteration = 0;
    while (p < line.size() && line[p] >= '0' && line[p] <= '9' && p - d0 < 15)
      iteration = iteration * 10 + (line[p++] - '0');
    if (p == d0) continue;
    while (p < line.size() && line[p] == ' ') ++p;
    if (p >= line.size() || line[p] != '/') continue;
    ++p;
    while (p < line.size() && line[p] == ' ') ++p;
    size_t d1 = p;
    while (p < line.size() && line[p] >= '0' && line[p] <= '9') ++p;
    if (p == d1) continue;
    while (p < line.size() && line[p] == ' ') ++p;
    if (p >= line.size() || line[p] != '|') continue;

    Metrics m;
    m.step = iteration;
    bool have_loss = false;
    std::string_view rest = line.substr(p + 1);
    while (!rest.empty()) {
      size_t bar = rest.find('|');
      std::string_view field = trim(rest.substr(0, bar));
      rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
      size_t colon = field.rfind(':');
      if (colon == std::string_view::npos) continue;
      std::string_view name = trim(field.substr(0, colon));
      auto value = parse_number(field.substr(colon + 1));
      if (!value) continue;
      if (name == "number of nan iterations") {
        if (*value > 0)  // any count above 0 (1e300 too) is a NaN iteration
          m.nan_iterations = *value < 1e18 ? std::max<int64_t>(1, static_cast<int64_t>(*value)) : int64_t{1} << 60;
        continue;
      }
      Key k = classify_key(name);
      if (k == Key::Loss) have_loss = true;
      if (k != Key::Step) assign(m, k, *value);
    }
    m.loss_missing = !have_loss;
    return m;
  }
  return std::nullopt;
}

struct LogParser::Pattern {
  pcre2_code* code = nullptr;
  pcre2_match_data* match = nullptr;
  std::vector<std::pair<Key, uint32_t>> groups;  // metric, capture group number
  ~Pattern() {
    if (match) pcre2_match_data_free(match);
    if (code) pcre2_code_free(code);
  }
};

LogParser::LogParser(LogFormat format, const std::string& regex) : format_(format) {
  if (format == LogFormat::Regex && regex.empty())
    throw Error("--log-format regex needs --metric-regex PATTERN");
  if (regex.empty()) return;
  pattern_ = std::make_unique<Pattern>();
  int err = 0;
  PCRE2_SIZE offset = 0;
  pattern_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(regex.data()), regex.size(), PCRE2_UTF, &err,
                                 &offset, nullptr);
  if (!pattern_->code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw Error("--metric-regex does not compile at offset " + std::to_string(offset) + ": " +
                reinterpret_cast<const char*>(msg));
  }
  uint32_t count = 0, entry_size = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(pattern_->code, PCRE2_INFO_NAMECOUNT, &count);
  pcre2_pattern_info(pattern_->code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
  pcre2_pattern_info(pattern_->code, PCRE2_INFO_NAMETABLE, &table);
  bool any_metric = false;
  for (uint32_t i = 0; i < count; ++i) {
    const unsigned char* entry = table + i * entry_size;
    uint32_t group = (static_cast<uint32_t>(entry[0]) << 8) | entry[1];
    std::string_view name(reinterpret_cast<const char*>(entry + 2));
    Key k = classify_key(name);
    if (k == Key::None) continue;
    pattern_->groups.push_back({k, group});
    any_metric |= k == Key::Loss || k == Key::GradNorm || k == Key::EvalLoss;
  }
  if (!any_metric)
    throw Error("--metric-regex names no metric: use named groups (?<loss>...), (?<grad_norm>...), "
                "(?<eval_loss>...), and optionally (?<step>...), (?<lr>...), (?<epoch>...)");
  pattern_->match = pcre2_match_data_create_from_pattern(pattern_->code, nullptr);
}

LogParser::~LogParser() = default;
LogParser::LogParser(LogParser&&) noexcept = default;
LogParser& LogParser::operator=(LogParser&&) noexcept = default;

std::optional<Metrics> LogParser::parse(std::string_view line) const {
  if (pattern_) {
    int rc = pcre2_match(pattern_->code, reinterpret_cast<PCRE2_SPTR>(line.data()), line.size(), 0,
                         0, pattern_->match, nullptr);
    if (rc > 0) {
      PCRE2_SIZE* ov = pcre2_get_ovector_pointer(pattern_->match);
      Metrics m;
      bool any = false;
      for (auto [key, group] : pattern_->groups) {
        if (group >= static_cast<uint32_t>(rc) || ov[2 * group] == PCRE2_UNSET) continue;
        auto v = parse_number(line.substr(ov[2 * group], ov[2 * group + 1] - ov[2 * group]));
        if (v) any |= assign(m, key, *v);
      }
      if (any && (m.loss || m.grad_norm || m.eval_loss)) return m;
    }
    if (format_ == LogFormat::Regex) return std::nullopt;
  }
  if (format_ == LogFormat::Auto || format_ == LogFormat::Megatron) {
    if (auto m = parse_megatron_line(line)) return m;
    if (format_ == LogFormat::Megatron) return std::nullopt;
  }
  return parse_dict_line(line);
}

}  // namespace tokalign::guard
