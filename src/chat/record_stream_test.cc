// RecordStream: JSON arrays and JSON Lines split into records with their positions, without
// loading the file whole; broken structure is an error naming byte and line.
#include "chat/record_stream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "util/error.h"

namespace tokalign::chat {
namespace {

struct Got {
  std::vector<std::string> records;
  std::vector<SourcePos> pos;
};

Got read_all(const std::string& text) {
  FILE* f = fmemopen(const_cast<char*>(text.data()), text.size(), "rb");
  if (text.empty()) f = std::tmpfile();
  RecordStream rs(f, "data.json");
  Got g;
  std::string_view r;
  SourcePos p;
  while (rs.next(r, p)) {
    g.records.emplace_back(r);
    g.pos.push_back(p);
  }
  std::fclose(f);
  return g;
}

TEST(RecordStream, ArrayElementsWithPositions) {
  const std::string text = "\xEF\xBB\xBF [\n {\"a\": \"x,]}\\\"\"} ,\n\n{\"b\": [1, {\"c\": 2}]}\n]\n";
  Got g = read_all(text);
  ASSERT_EQ(g.records.size(), 2u);
  EXPECT_EQ(g.records[0], "{\"a\": \"x,]}\\\"\"}");
  EXPECT_EQ(g.records[1], "{\"b\": [1, {\"c\": 2}]}");
  EXPECT_EQ(g.pos[0].line, 2u);
  EXPECT_EQ(g.pos[1].line, 4u);
  EXPECT_EQ(g.pos[1].index, 1u);
  EXPECT_EQ(text.substr(g.pos[1].byte_offset, 6), "{\"b\": ");
}

TEST(RecordStream, JsonLinesSkipBlankLinesAndKeepLineNumbers) {
  const std::string text = "{\"a\":1}\n\n  \n{\"b\":2}\r\n{\"c\":3}";
  Got g = read_all(text);
  ASSERT_EQ(g.records.size(), 3u);
  EXPECT_EQ(g.records[1], "{\"b\":2}");
  EXPECT_EQ(g.pos[1].line, 4u);
  EXPECT_EQ(g.pos[2].line, 5u);
  EXPECT_EQ(g.records[2], "{\"c\":3}");
}

TEST(RecordStream, EmptyInputsHaveNoRecords) {
  EXPECT_TRUE(read_all("").records.empty());
  EXPECT_TRUE(read_all("[]").records.empty());
  EXPECT_TRUE(read_all(" [ ] \n").records.empty());
}

TEST(RecordStream, RecordsLargerThanOneReadChunk) {
  std::string big(3 << 20, 'x');
  const std::string text = "[{\"v\": \"" + big + "\"}, {\"w\": 1}]";
  Got g = read_all(text);
  ASSERT_EQ(g.records.size(), 2u);
  EXPECT_EQ(g.records[0].size(), big.size() + 9);
  EXPECT_EQ(g.records[1], "{\"w\": 1}");
}

// Random arrays over several read chunks, built from what the scan must get right: strings
// holding quotes, backslashes (runs of them), brackets, commas and newlines as escapes,
// nesting, and raw newlines between records. Each record, its line and its byte offset come
// back as written, wherever the chunk boundaries fall.
TEST(RecordStream, RandomArraysAcrossReadChunks) {
  std::mt19937 rng(3);
  const std::vector<std::string> pieces = {"a", "ü", "\\\\", "\\\"", "\\n", "]", "}", ",", "{", "[", " ", "x y z",
                                           "\\\\\\\\", "\\u0041", "日本"};
  auto str = [&] {
    std::string s = "\"";
    for (size_t k = rng() % 40; k > 0; --k) s += pieces[rng() % pieces.size()];
    if (rng() % 50 == 0) s += std::string(20000 + rng() % 70000, 'w');  // long strings: whole 16-byte steps
    return s + "\"";
  };
  std::string text = "[";
  std::vector<std::string> want;
  std::vector<size_t> offsets;
  while (text.size() < (5u << 20)) {
    text += rng() % 3 == 0 ? "\n" : rng() % 2 ? " " : "";
    // Now and then 5,000 raw newlines inside a record: byte-wide line counts must not wrap.
    std::string r = "{" + std::string(rng() % 100 == 0 ? 5000 : 0, '\n') + "\"id\": " + str() + ", \"v\": [" + str() + ", {\"k\": [" + str() + "]}], \"n\": 12}";
    offsets.push_back(text.size());
    want.push_back(r);
    text += r;
    text += rng() % 4 == 0 ? "\n," : ",";
  }
  text.back() = ']';
  const Got g = read_all(text);
  ASSERT_EQ(g.records.size(), want.size());
  uint64_t line = 1;
  for (size_t i = 0; i < want.size(); ++i) {
    const size_t from = i ? offsets[i - 1] : 0;
    line += static_cast<uint64_t>(std::count(text.begin() + static_cast<std::ptrdiff_t>(from),
                                             text.begin() + static_cast<std::ptrdiff_t>(offsets[i]), '\n'));
    ASSERT_EQ(g.records[i], want[i]) << i;
    ASSERT_EQ(g.pos[i].byte_offset, offsets[i]) << i;
    ASSERT_EQ(g.pos[i].line, line) << i;
  }
}

TEST(RecordStream, BrokenStructureNamesByteAndLine) {
  for (const char* bad : {"[{\"a\": 1}", "[{\"a\": \"unterminated}]", "[{\"a\":1}] trailing", "[{\"a\":1},,{}]"}) {
    try {
      read_all(bad);
      ADD_FAILURE() << "no error for " << bad;
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("data.json"), std::string::npos) << m;
      EXPECT_NE(m.find("at byte"), std::string::npos) << m;
      EXPECT_NE(m.find("line"), std::string::npos) << m;
    }
  }
}

}  // namespace
}  // namespace tokalign::chat
