// ConversationReader: every supported record shape becomes a Conversation; every bad record
// becomes a Problem with a reason code and the field, never an exception.
#include "chat/reader.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace tokalign::chat {
namespace {

bool read(const std::string& rec, Conversation& c, Problem& p, InputFormat f = InputFormat::auto_detect) {
  ConversationReader r(f);
  SourcePos pos{"d.json", 3, 100, 7};
  return r.read(rec, pos, c, p);
}

TEST(Reader, LlavaRecord) {
  Conversation c;
  Problem p;
  ASSERT_TRUE(read(R"({"id": "a1", "image": "x.jpg", "conversations": [{"from": "human", "value": "<image>\nHi"},
                      {"from": "gpt", "value": "Hello"}]})", c, p));
  EXPECT_EQ(c.id, "a1");
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[0].role, Role::user);
  EXPECT_EQ(c.messages[1].role, Role::assistant);
  EXPECT_EQ(c.messages[1].content, "Hello");
  EXPECT_EQ(c.images, std::vector<std::string>{"x.jpg"});
  EXPECT_EQ(c.pos.index, 7u);
}

TEST(Reader, ShareGptRolesAndNumericIds) {
  Conversation c;
  Problem p;
  ASSERT_TRUE(read(R"({"id": 42, "conversations": [{"from": "system", "value": "S"}, {"from": "user", "value": "q"},
                      {"from": "assistant", "value": null}]})", c, p));
  EXPECT_EQ(c.id, "42");
  EXPECT_EQ(c.messages[0].role, Role::system);
  EXPECT_EQ(c.messages[2].content, "");
}

TEST(Reader, MessagesWithContentPartsAndImageLists) {
  Conversation c;
  Problem p;
  ASSERT_TRUE(read(R"({"messages": [{"role": "user", "content": [{"type": "text", "text": "Look "},
                      {"type": "image", "image": "a.png"}, {"type": "text", "text": " now"},
                      {"type": "image_url", "image_url": {"url": "b.png"}}]},
                      {"role": "assistant", "content": "ok"}]})", c, p));
  EXPECT_EQ(c.messages[0].content, "Look <image> now<image>");
  EXPECT_EQ(c.images, (std::vector<std::string>{"a.png", "b.png"}));
  EXPECT_EQ(c.id, "#7");  // no id: the record index
  ASSERT_TRUE(read(R"({"messages": [{"role": "user", "content": "<image>x"}], "images": ["p.jpg", {"path": "q.jpg"}]})", c, p));
  EXPECT_EQ(c.images, (std::vector<std::string>{"p.jpg", "q.jpg"}));
}

TEST(Reader, ProblemsHaveReasonAndField) {
  struct Case {
    const char* rec;
    const char* reason;
    const char* field;
  } cases[] = {
      {R"({"id": "x", "conversations": [{"from": "robot", "value": "hi"}]})", "unknown_role", "conversations[0].from"},
      {R"({"id": "x", "conversations": [{"from": "human", "value": 3}]})", "bad_field", "conversations[0].value"},
      {R"({"id": "x", "conversations": "no"})", "bad_field", "conversations"},
      {R"({"id": "x"})", "bad_record", ""},
      {R"([1, 2])", "bad_record", ""},
      {R"({"id": "x", "conversations": [)", "malformed_json", ""},
      {"{\"id\": \"x\", \"conversations\": [{\"from\": \"human\", \"value\": \"caf\xE9\"}]}", "invalid_utf8", ""},
      {R"({"id": "x", "image": 5, "conversations": []})", "bad_field", "image"},
      {R"({"messages": [{"role": "user", "content": [{"type": "audio"}]}]})", "unsupported_content", "messages[0].content[0].type"},
      {R"({"messages": [{"role": "user", "content": [{"type": "image", "image": "a"}]}], "images": ["b"]})", "ambiguous_images", "images"},
  };
  for (const Case& k : cases) {
    Conversation c;
    Problem p;
    EXPECT_FALSE(read(k.rec, c, p)) << k.rec;
    EXPECT_EQ(p.reason, k.reason) << k.rec;
    EXPECT_EQ(p.field, k.field) << k.rec;
    EXPECT_FALSE(p.message.empty());
  }
}

// Of duplicate keys the last counts, in a record and in a message (Python's json.load keeps
// the last; json.loads('{"a": 1, "a": 2}') == {'a': 2}). Missing fields are named.
TEST(Reader, DuplicateKeysTakeTheLastAsPythonDoes) {
  Conversation c;
  Problem p;
  ASSERT_TRUE(read(R"({"id": "a", "image": "x.jpg", "id": "b", "conversations": [{"from": "robot", "value": "v1",
                      "from": "human", "value": "<image>\nHi"}], "image": "y.jpg"})", c, p))
      << p.reason << " " << p.field;
  EXPECT_EQ(c.id, "b");
  EXPECT_EQ(c.images, std::vector<std::string>{"y.jpg"});
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0].role, Role::user);
  EXPECT_EQ(c.messages[0].content, "<image>\nHi");
  EXPECT_FALSE(read(R"({"conversations": [{"value": "x"}]})", c, p));
  EXPECT_EQ(p.field, "conversations[0].from");
  EXPECT_FALSE(read(R"({"messages": [{"role": "user"}]})", c, p));
  EXPECT_EQ(p.field, "messages[0].content");
  EXPECT_EQ(p.reason, "bad_field");
}

TEST(Reader, ForcedFormatAndNames) {
  Conversation c;
  Problem p;
  EXPECT_FALSE(read(R"({"messages": [{"role": "user", "content": "x"}]})", c, p, InputFormat::llava));
  EXPECT_EQ(p.reason, "bad_record");
  EXPECT_EQ(parse_input_format("sharegpt"), InputFormat::llava);
  EXPECT_EQ(parse_input_format("openai"), InputFormat::messages);
  EXPECT_THROW(parse_input_format("csv"), Error);
}

}  // namespace
}  // namespace tokalign::chat
