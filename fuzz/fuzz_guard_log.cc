// libFuzzer target: arbitrary bytes as a trainer's output, split into lines on \n and \r as the
// supervisor splits them -> guard::LogParser (Auto, Megatron, and Auto with a user regex),
// parse_dict_line, parse_megatron_line and parse_number on each line, the records into a
// Detector; and the whole input -> quote_non_finite_json -> simdjson.
// Invariants: no crash, hang or sanitizer report; a Megatron record has a step; a dict record
// names a loss, grad norm or eval loss; the Detector acts at most once per record; text that
// is already valid JSON comes out of quote_non_finite_json unchanged.
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "guard/checkpoint.h"
#include "guard/detector.h"
#include "guard/log_parser.h"

using namespace tokalign;
using namespace tokalign::guard;

namespace {

[[noreturn]] void bug(const char* what) {
  std::fprintf(stderr, "fuzz_guard_log: BUG: %s\n", what);
  std::abort();
}

const LogParser& parser(int which) {
  static const LogParser automatic(LogFormat::Auto);
  static const LogParser megatron(LogFormat::Megatron);
  static const LogParser with_regex(LogFormat::Auto,
                                    R"(step[ =:]*(?<step>\d+).*?loss[ =:]*(?<loss>\S+)(?:.*?grad[_ ]norm[ =:]*(?<grad_norm>\S+))?)");
  return which == 0 ? automatic : which == 1 ? megatron : with_regex;
}

void check_record(const std::optional<Metrics>& m) {
  if (!m) return;
  if (m->step && *m->step < 0) bug("a negative step");
  if (m->nan_iterations < 0) bug("a negative nan iteration count");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Detector detector;
  int64_t counted = 0;

  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find_first_of("\n\r", start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, end - start);
    start = end + 1;

    (void)parse_number(line);
    std::optional<Metrics> dict = parse_dict_line(line);
    check_record(dict);
    if (dict && !dict->loss && !dict->grad_norm && !dict->eval_loss) bug("a dict record without a metric");
    std::optional<Metrics> meg = parse_megatron_line(line);
    check_record(meg);
    if (meg && !meg->step) bug("a Megatron record without its iteration");
    if (meg && meg->loss_missing == meg->loss.has_value()) bug("loss_missing disagrees with the loss");

    for (int which = 0; which < 3; ++which) {
      std::optional<Metrics> m = parser(which).parse(line);
      check_record(m);
      if (which == 1 && m && !m->step) bug("LogParser(Megatron) returned a record without a step");
      if (which == 0 && m) {
        // Records in order, as the supervisor feeds them (counted steps when the log has none).
        counted = m->step ? std::max(counted, *m->step) : counted + 1;
        int acts = 0;
        for (const Finding& f : detector.observe(*m, counted)) acts += f.act;
        if (acts > 1) bug("more than one acting finding for one record");
      }
    }
    if (end == input.size()) break;
  }

  // trainer_state.json as Python writes it: quoted, then parsed by simdjson.
  const std::string text(input);
  const std::string quoted = quote_non_finite_json(text);
  if (quoted.size() < text.size()) bug("quote_non_finite_json lost bytes");
  simdjson::dom::parser json;
  simdjson::dom::element root;
  (void)json.parse(quoted).get(root);
  simdjson::dom::parser json_plain;
  if (json_plain.parse(text).get(root) == simdjson::SUCCESS && quoted != text)
    bug("quote_non_finite_json changed valid JSON");
  return 0;
}
