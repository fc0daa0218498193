// The interpreter against Python's jinja2 as transformers runs it: tests/chat/jinja/snippets.jsonl
// (small templates over Python's value semantics, filters, tests, scoping, whitespace
// control) rendered on the device machine by bench/device/jinja_snippets.py into
// snippets.expected.jsonl. Each snippet must give the same text, or fail where Python fails.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "chat/hf_template.h"
#include "chat/jinja/parser.h"
#include "util/error.h"

namespace tokalign::chat::jinja {
namespace {

std::vector<Value> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<Value> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(from_json(line));
  return out;
}

std::string field(const Value& v, const char* k) {
  const Value* x = v.dict().find(k);
  return x && x->is_string() ? x->str() : std::string();
}

TEST(Jinja, SnippetsMatchPythonJinja2) {
  const std::string dir = std::string(TOKALIGN_SOURCE_DIR) + "/tests/chat/jinja/";
  const std::vector<Value> cases = read_jsonl(dir + "snippets.jsonl");
  const std::vector<Value> expected = read_jsonl(dir + "snippets.expected.jsonl");
  ASSERT_GT(cases.size(), 200u);
  std::map<std::string, Value> want;
  for (const Value& e : expected) want[field(e, "id")] = e;
  std::tm date{};
  date.tm_year = 2026 - 1900;
  date.tm_mon = 10;
  date.tm_mday = 28;
  date.tm_wday = 6;
  date.tm_yday = 331;
  size_t compared = 0, errors = 0;
  for (const Value& c : cases) {
    const std::string id = field(c, "id"), src = field(c, "template");
    ASSERT_TRUE(want.count(id)) << id << " has no expected output";
    const Value& w = want[id];
    const bool want_error = w.dict().find("error") != nullptr;
    std::string got, err;
    try {
      HfChatTemplate t = HfChatTemplate::from_text(src, Dict{});
      HfChatTemplate::Call call;
      call.messages = Value(List{});
      call.extra = c.dict().find("vars")->dict();
      call.now = date;
      got = t.render(call).text;
    } catch (const Error& e) {
      err = e.what();
    }
    ++compared;
    if (want_error) {
      ++errors;
      EXPECT_FALSE(err.empty()) << id << ": " << src << "\n  Python fails (" << field(w, "error") << ") but tokalign gives \""
                                << got << "\"";
    } else {
      EXPECT_TRUE(err.empty()) << id << ": " << src << "\n  tokalign fails: " << err << "\n  Python: \"" << field(w, "text") << "\"";
      if (err.empty()) {
        EXPECT_EQ(got, field(w, "text")) << id << ": " << src;
      }
    }
  }
  EXPECT_EQ(compared, cases.size());
  EXPECT_GT(errors, 5u);  // the corpus exercises failures too
}

TEST(Jinja, UnsupportedConstructsNameTheirPosition) {
  for (const char* src : {"{% include 'x' %}", "a\n{% for x in y recursive %}{% endfor %}", "{{ x | nosuchfilter }}",
                          "{{ x is nosuchtest }}", "{% if x %}", "{{ (1 }}", "{% endfor %}"}) {
    try {
      parse(src);
      ADD_FAILURE() << src << " parsed";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("line "), std::string::npos) << e.what();
    }
  }
}

TEST(Jinja, RunawayTemplatesAreBounded) {
  RenderLimits small;
  small.max_steps = 100000;
  small.max_output = 1 << 20;
  const char* runaway[] = {
      "{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}",
      "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
      "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}",
      "{{ range(100000000) }}",
      "{{ 'x' * 1000000000 }}",
  };
  for (const char* src : runaway) {
    Template t = parse(src);
    EXPECT_THROW(render(t, Dict{}, small), Error) << src;
  }
}

}  // namespace
}  // namespace tokalign::chat::jinja
