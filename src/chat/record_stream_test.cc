// RecordStream: JSON arrays and JSON Lines split into records with their positions, without
// loading the file whole; broken structure is an error naming byte and line.
#include "chat/record_stream.h"

#include <gtest/gtest.h>

#include <cstdio>
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
