#include "guard/checkpoint.h"

#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "guard/log_parser.h"
#include "util/error.h"
#include "util/file.h"

namespace tokalign::guard {

namespace fs = std::filesystem;
namespace dom = simdjson::dom;

namespace {

// The step in `name` when it matches prefix + digits + suffix.
std::optional<int64_t> match_step(const std::string& name, const std::string& pattern) {
  size_t at = pattern.find("{step}");
  std::string prefix = pattern.substr(0, at), suffix = pattern.substr(at + 6);
  if (name.size() <= prefix.size() + suffix.size()) return std::nullopt;
  if (name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return std::nullopt;
  std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.empty() || digits.size() > 15) return std::nullopt;
  int64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// A number in trainer_state.json: a JSON number or one of the quoted non-finite tokens.
std::optional<double> json_number(dom::element e) {
  double d;
  if (e.get_double().get(d) == simdjson::SUCCESS) return d;
  int64_t i;
  if (e.get_int64().get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  uint64_t u;
  if (e.get_uint64().get(u) == simdjson::SUCCESS) return static_cast<double>(u);
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) return parse_number(s);
  return std::nullopt;
}

std::string first_empty_file(const fs::path& p) {
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) return fs::file_size(p, ec) == 0 ? p.filename().string() : std::string();
  for (fs::recursive_directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_regular_file(ec2) && it->file_size(ec2) == 0)
      return fs::relative(it->path(), p, ec2).string();
  }
  return {};
}

void judge_hf(Checkpoint& c) {
  fs::path state = fs::path(c.path) / "trainer_state.json";
  std::string text;
  try {
    text = quote_non_finite_json(read_file(state.string()));
  } catch (const Error& e) {
    c.problem = "trainer_state.json cannot be read";
    return;
  }
  dom::parser parser;
  dom::element root;
  if (parser.parse(text).get(root) != simdjson::SUCCESS || !root.is_object()) {
    c.problem = "trainer_state.json is not valid JSON (truncated?)";
    return;
  }
  int64_t global_step = -1;
  dom::element gs;
  if (root["global_step"].get(gs) == simdjson::SUCCESS) {
    if (auto v = json_number(gs); v && *v >= 0 && *v < 9e15 && *v == std::floor(*v)) global_step = static_cast<int64_t>(*v);
  }
  if (global_step != c.step) {
    c.problem = "trainer_state.json says global_step " + std::to_string(global_step) + ", not " +
                std::to_string(c.step);
    return;
  }
  dom::array history;
  if (root["log_history"].get(history) != simdjson::SUCCESS) return;
  for (dom::element entry : history) {
    dom::object o;
    if (entry.get(o) != simdjson::SUCCESS) continue;
    std::optional<double> loss, grad, eval, step;
    for (auto field : o) {
      if (field.key == "loss") loss = json_number(field.value);
      else if (field.key == "grad_norm") grad = json_number(field.value);
      else if (field.key == "eval_loss") eval = json_number(field.value);
      else if (field.key == "step") step = json_number(field.value);
    }
    if (!step || !(*step >= 0) || *step > static_cast<double>(c.step)) continue;
    std::string bad;
    if (loss && !std::isfinite(*loss)) bad = "loss is not finite";
    else if (grad && !std::isfinite(*grad)) bad = "grad_norm is not finite";
    else if (eval && !std::isfinite(*eval)) bad = "eval_loss is not finite";
    else if (loss && *loss == 0.0 && (!grad || *grad == 0.0)) bad = "loss is 0 (all labels masked)";
    if (!bad.empty()) {
      c.bad_history_step = static_cast<int64_t>(*step);
      c.bad_history = bad;
      return;
    }
  }
}

void link_or_copy_tree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (fs::is_regular_file(from)) {
    fs::create_hard_link(from, to, ec);
    if (ec) fs::copy_file(from, to);
    return;
  }
  fs::create_directories(to);
  for (const fs::directory_entry& e : fs::directory_iterator(from)) {
    fs::path target = to / e.path().filename();
    if (e.is_directory()) link_or_copy_tree(e.path(), target);
    else if (e.is_symlink()) fs::copy_symlink(e.path(), target);
    else if (e.is_regular_file()) link_or_copy_tree(e.path(), target);
  }
}

template <typename Fill>
std::string make_aside(const std::string& aside_dir, const std::string& name, Fill fill) {
  fs::path dest = fs::path(aside_dir) / name;
  std::error_code ec;
  if (fs::exists(dest, ec)) return dest.string();
  try {
    fs::create_directories(aside_dir);
    fs::path tmp = fs::path(aside_dir) / (".tmp-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(tmp, ec);
    fill(tmp);
    fs::rename(tmp, dest);
  } catch (const fs::filesystem_error& e) {
    throw Error("cannot set checkpoint " + name + " aside in " + aside_dir + ": " + e.what());
  }
  return dest.string();
}

}  // namespace

void check_checkpoint_pattern(const std::string& pattern) {
  size_t at = pattern.find("{step}");
  if (at == std::string::npos || pattern.find("{step}", at + 1) != std::string::npos)
    throw Error("--checkpoint-pattern '" + pattern + "' must contain {step} exactly once");
  if (pattern.find('/') != std::string::npos)
    throw Error("--checkpoint-pattern '" + pattern + "' names entries of --checkpoint-dir, without '/'");
}

std::vector<Checkpoint> find_checkpoints(const std::string& dir, const std::string& pattern) {
  std::vector<Checkpoint> out;
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return out;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    auto step = match_step(name, pattern);
    if (!step) continue;
    Checkpoint c;
    c.path = it->path().string();
    c.step = *step;
    std::error_code ec2;
    c.hf = it->is_directory(ec2) && fs::exists(it->path() / "trainer_state.json", ec2);
    if (it->is_directory(ec2) && fs::is_empty(it->path(), ec2)) c.problem = "the folder is empty";
    if (c.problem.empty()) {
      std::string empty = first_empty_file(it->path());
      if (!empty.empty()) c.problem = "file " + empty + " is empty (an interrupted save?)";
    }
    if (c.problem.empty() && c.hf) judge_hf(c);
    if (c.problem.empty() && !c.hf && it->is_directory(ec2) && pattern.rfind("checkpoint-", 0) == 0)
      c.problem = "no trainer_state.json (an interrupted HF save?)";
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const Checkpoint& a, const Checkpoint& b) { return a.step < b.step; });
  return out;
}

std::string quote_non_finite_json(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < text.size()) out.push_back(text[++i]);
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out.push_back(c);
      continue;
    }
    bool replaced = false;
    for (const char* token : {"-Infinity", "Infinity", "NaN"}) {
      size_t n = std::char_traits<char>::length(token);
      if (text.compare(i, n, token) == 0) {
        out += '"';
        out += token;
        out += '"';
        i += n - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out.push_back(c);
  }
  return out;
}

std::string link_copy(const std::string& from, const std::string& dir, const std::string& name) {
  return make_aside(dir, name, [&](const fs::path& tmp) { link_or_copy_tree(from, tmp); });
}

std::string protect_checkpoint(const Checkpoint& c, const std::string& aside_dir) {
  return link_copy(c.path, aside_dir, fs::path(c.path).filename().string());
}

std::string checkpoint_name(const std::string& pattern, int64_t step) {
  std::string out = pattern;
  size_t at = out.find("{step}");
  if (at != std::string::npos) out.replace(at, 6, std::to_string(step));
  return out;
}

std::string prepare_hf_skip(const Checkpoint& c, int64_t skip_to, const std::string& aside_dir) {
  if (!c.hf) throw Error("checkpoint " + c.path + " is not a Hugging Face checkpoint: cannot skip data by editing it");
  std::string name = fs::path(c.path).filename().string() + "-skip-to-" + std::to_string(skip_to);
  std::string state = read_file((fs::path(c.path) / "trainer_state.json").string());
  size_t key = state.find("\"global_step\"");
  size_t p = key == std::string::npos ? key : state.find(':', key);
  if (p == std::string::npos) throw Error(c.path + "/trainer_state.json has no global_step");
  ++p;
  while (p < state.size() && (state[p] == ' ' || state[p] == '\n' || state[p] == '\t' || state[p] == '\r')) ++p;
  size_t digits = p;
  while (p < state.size() && state[p] >= '0' && state[p] <= '9') ++p;
  if (p == digits) throw Error(c.path + "/trainer_state.json: global_step is not a number");
  state.replace(digits, p - digits, std::to_string(skip_to));
  return make_aside(aside_dir, name, [&](const fs::path& tmp) {
    fs::create_directories(tmp);
    for (const fs::directory_entry& e : fs::directory_iterator(c.path)) {
      if (e.path().filename() == "trainer_state.json") continue;
      link_or_copy_tree(e.path(), tmp / e.path().filename());
    }
    std::ofstream f(tmp / "trainer_state.json", std::ios::binary);
    f << state;
    if (!f.flush()) throw Error("cannot write " + (tmp / "trainer_state.json").string());
  });
}

}  // namespace tokalign::guard
