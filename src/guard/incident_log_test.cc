// The incident log: every event is one valid JSON line (NaN and Inf as strings, strings
// escaped) with time, event and attempt; lines are flushed as written and appended to an
// existing log.
#include "guard/incident_log.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "util/error.h"

namespace tokalign::guard {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::vector<std::string> out;
  for (std::string line; std::getline(f, line);) out.push_back(line);
  return out;
}

std::string field_string(simdjson::dom::element e, const char* key) {
  std::string_view s;
  EXPECT_EQ(e[key].get_string().get(s), simdjson::SUCCESS) << key;
  return std::string(s);
}

TEST(GuardIncident, EventIsValidJsonWithItsFields) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::string tricky = "quote \" backslash \\ newline \n tab \t cr \r ctrl \x01\x1f utf8 \xc3\xa9 / end";
  IncidentEvent e("anomaly", 2);
  e.integer("step", 1230).integer("neg", -5).num("value", nan).num("pos_inf", inf).num("neg_inf", -inf);
  e.num("ratio", 1.5).num("tiny", 2.5e-7).str("detail", tricky).boolean("act", true).boolean("quiet", false);
  const std::string json = e.json();
  EXPECT_EQ(json.find('\n'), std::string::npos) << "one event, one line";

  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  EXPECT_EQ(field_string(root, "event"), "anomaly");
  int64_t attempt = 0;
  ASSERT_EQ(root["attempt"].get_int64().get(attempt), simdjson::SUCCESS);
  EXPECT_EQ(attempt, 2);
  // UTC ISO 8601: 2026-11-28T10:00:00Z
  std::string time = field_string(root, "time");
  ASSERT_EQ(time.size(), 20u) << time;
  EXPECT_EQ(time[4], '-');
  EXPECT_EQ(time[10], 'T');
  EXPECT_EQ(time.back(), 'Z');

  int64_t step = 0, neg = 0;
  ASSERT_EQ(root["step"].get_int64().get(step), simdjson::SUCCESS);
  EXPECT_EQ(step, 1230);
  ASSERT_EQ(root["neg"].get_int64().get(neg), simdjson::SUCCESS);
  EXPECT_EQ(neg, -5);
  EXPECT_EQ(field_string(root, "value"), "NaN");
  EXPECT_EQ(field_string(root, "pos_inf"), "Infinity");
  EXPECT_EQ(field_string(root, "neg_inf"), "-Infinity");
  double ratio = 0, tiny = 0;
  ASSERT_EQ(root["ratio"].get_double().get(ratio), simdjson::SUCCESS);
  EXPECT_EQ(ratio, 1.5);
  ASSERT_EQ(root["tiny"].get_double().get(tiny), simdjson::SUCCESS);
  EXPECT_DOUBLE_EQ(tiny, 2.5e-7);
  EXPECT_EQ(field_string(root, "detail"), tricky);
  bool act = false, quiet = true;
  ASSERT_EQ(root["act"].get_bool().get(act), simdjson::SUCCESS);
  EXPECT_TRUE(act);
  ASSERT_EQ(root["quiet"].get_bool().get(quiet), simdjson::SUCCESS);
  EXPECT_FALSE(quiet);
}

TEST(GuardIncident, EscapedKeysAndEventNames) {
  IncidentEvent e("odd \"event\"", 1);
  e.str("key \"with\" quotes\n", "v");
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(e.json()).get(root), simdjson::SUCCESS) << e.json();
  EXPECT_EQ(field_string(root, "event"), "odd \"event\"");
  EXPECT_EQ(field_string(root, "key \"with\" quotes\n"), "v");
}

class GuardIncidentLog : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() / ("tokalign-guard-incidents-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path root_;
};

TEST_F(GuardIncidentLog, WritesFlushedLinesAndAppends) {
  const fs::path path = root_ / "nested" / "dir" / "incidents.jsonl";  // the folder is created
  {
    IncidentLog log(path.string());
    EXPECT_EQ(log.path(), path.string());
    log.write(IncidentEvent("start", 1).str("command", "python train.py --lr 1e-4"));
    // Flushed at once: a guard killed now leaves the line behind.
    ASSERT_EQ(lines_of(path).size(), 1u);
    log.write(IncidentEvent("anomaly", 1).integer("step", 40).num("value", std::numeric_limits<double>::quiet_NaN()));
    ASSERT_EQ(lines_of(path).size(), 2u);
  }
  {
    IncidentLog again(path.string());
    again.write(IncidentEvent("start", 1).str("command", "second run"));
  }
  std::vector<std::string> lines = lines_of(path);
  ASSERT_EQ(lines.size(), 3u);
  simdjson::dom::parser parser;
  const char* events[] = {"start", "anomaly", "start"};
  for (size_t i = 0; i < lines.size(); ++i) {
    simdjson::dom::element root;
    ASSERT_EQ(parser.parse(lines[i]).get(root), simdjson::SUCCESS) << lines[i];
    EXPECT_EQ(field_string(root, "event"), events[i]);
  }
  simdjson::dom::element first;
  ASSERT_EQ(parser.parse(lines[0]).get(first), simdjson::SUCCESS);
  EXPECT_EQ(field_string(first, "command"), "python train.py --lr 1e-4");
}

TEST_F(GuardIncidentLog, SummaryLinesAreKeptInOrder) {
  IncidentLog log((root_ / "i.jsonl").string());
  log.summary_line("step 40: non_finite_loss");
  log.summary_line("  -> rollback 1");
  EXPECT_EQ(log.summary(), (std::vector<std::string>{"step 40: non_finite_loss", "  -> rollback 1"}));
}

TEST_F(GuardIncidentLog, UnwritablePathThrows) {
  fs::create_directories(root_ / "a-directory");
  EXPECT_THROW(IncidentLog((root_ / "a-directory").string()), Error);
}

TEST(GuardIncident, DefaultLogIgnoresWrites) {
  IncidentLog log;
  EXPECT_NO_THROW(log.write(IncidentEvent("start", 1)));
  EXPECT_EQ(log.path(), "");
}

}  // namespace
}  // namespace tokalign::guard
