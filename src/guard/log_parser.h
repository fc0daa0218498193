// Reads training metrics from the lines a trainer prints.
//
// Formats (Format::Auto tries them in this order on each line):
//   Megatron   "iteration  100/ 5000 | ... | lm loss: 7.33E-01 | ... | grad norm: 0.752 | ..."
//              (an iteration line without "lm loss" is what Megatron prints when the loss
//              is NaN: reported as loss_missing)
//   Dict       HF Trainer's log dicts, anywhere in the line (after a tqdm bar):
//              {'loss': 2.3456, 'grad_norm': 1.2, 'learning_rate': 1e-05, 'epoch': 0.5}
//              {'loss': '2.346', 'grad_norm': 'nan', ...}   (newer versions quote floats)
//              {'grad_norm': tensor(nan, device='cuda:0'), ...}
//              and JSON lines {"step": 10, "loss": NaN, ...} (Python's json writes NaN,
//              Infinity, which strict JSON parsers refuse, so one tolerant reader does both)
//   Regex      a user PCRE2 pattern with named groups loss, grad_norm, step, lr, epoch,
//              eval_loss
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "guard/metrics.h"

namespace tokalign::guard {

enum class LogFormat { Auto, Dict, Megatron, Regex };

// "auto", "hf", "json", "dict", "megatron", "regex"; throws tokalign::Error otherwise.
LogFormat parse_log_format(std::string_view name);

// A number as trainers print it: 1.5, -2e-05, nan, NaN, inf, -Infinity, '2.346' (quoted),
// tensor(nan, device='cuda:0'). nullopt when v is not one.
std::optional<double> parse_number(std::string_view v);

// The first metric dict in the line ({'loss': ...} or {"loss": ...}); nullopt when the line
// holds none or the dict names no metric the guard reads.
std::optional<Metrics> parse_dict_line(std::string_view line);

// A Megatron iteration line; nullopt otherwise.
std::optional<Metrics> parse_megatron_line(std::string_view line);

class LogParser {
 public:
  // regex: required for Format::Regex, and with Format::Auto used before the built-in
  // formats. Throws tokalign::Error when the pattern does not compile or names no metric.
  explicit LogParser(LogFormat format, const std::string& regex = {});
  ~LogParser();
  LogParser(LogParser&&) noexcept;
  LogParser& operator=(LogParser&&) noexcept;

  // One line without its terminator (the supervisor splits on \n and \r, so tqdm's
  // carriage-return redraws are separate lines).
  std::optional<Metrics> parse(std::string_view line) const;

 private:
  LogFormat format_;
  struct Pattern;
  std::unique_ptr<Pattern> pattern_;
};

}  // namespace tokalign::guard
