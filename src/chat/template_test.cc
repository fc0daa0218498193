// Templates as data: the built-in descriptions load, bad descriptions are refused with the
// field named, rendering tags every character and refuses conversations that do not fit.
// (Rendered strings are compared with LLaVA's own get_prompt() in tests/compile/.)
#include "chat/template.h"

#include <gtest/gtest.h>

#include <random>

#include "util/error.h"

namespace tokalign::chat {
namespace {

std::string error_of(const std::string& json) {
  try {
    Template::from_json(json, "t.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Template, BuiltinsLoadAndAreFoundByNameOrAlias) {
  const TemplateRegistry& r = TemplateRegistry::builtin();
  for (const char* n : {"v0", "v1", "vicuna_v1", "llava_v1", "llama_2", "llava_llama_2", "mistral_instruct",
                        "mistral_direct", "chatml_direct", "mpt", "plain", "llava_v1_mmtag", "llava_v0_mmtag",
                        "mistral_zephyr", "mistral_orca", "qwen_1_5", "qwen_2", "qwen_2_5", "llava_llama_3",
                        "gemma_instruct", "zephyr"})
    EXPECT_NO_THROW(r.find(n)) << n;
  EXPECT_EQ(&r.find("vicuna_v1"), &r.find("v1"));
  try {
    r.find("vicuna");
    ADD_FAILURE();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("unknown template 'vicuna'"), std::string::npos);
    EXPECT_NE(m.find("chatml_direct"), std::string::npos) << "the known names are listed";
  }
}

TEST(Template, BadDescriptionsNameTheField) {
  const std::string ok = R"("name": "x", "user": "U: {content}", "assistant": "A: {content}{eot}", "eot": "</s>")";
  EXPECT_EQ(error_of("{" + ok + "}"), "");
  EXPECT_NE(error_of("{" + ok + R"(, "colour": 1})").find("\"colour\": unknown field"), std::string::npos);
  EXPECT_NE(error_of(R"({"name": "x", "user": "U:", "assistant": "A: {content}"})").find("\"user\": needs exactly one {content}"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name": "x", "user": "{content}", "assistant": "{content}{eot}"})").find("\"eot\" is not set"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name": "x", "user": "{content}{role}", "assistant": "{content}"})").find("unknown placeholder {role}"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"name": "x", "user": "{content", "assistant": "{content}"})").find("unclosed '{'"), std::string::npos);
  EXPECT_NE(error_of(R"({"name": "x", "user": "{eot}{content}", "assistant": "{content}", "eot": "e"})").find("after {content}"),
            std::string::npos);
  EXPECT_NE(error_of("{" + ok + R"(, "system_in_first_user": true})").find("first_user"), std::string::npos);
  EXPECT_NE(error_of("[1]").find("JSON object"), std::string::npos);
  // Literal braces.
  Template t = Template::from_json(R"({"name": "b", "user": "{{u}} {content}", "assistant": "{content}"})", "t.json");
  Conversation c;
  c.messages = {{Role::user, "q"}, {Role::assistant, "a"}};
  Rendered r;
  Problem p;
  ASSERT_TRUE(t.render(c, r, p));
  EXPECT_EQ(r.text(), "{u} qa");
}

TEST(Template, SegmentsTagEveryCharacter) {
  const Template& t = TemplateRegistry::builtin().find("qwen_2");
  Conversation c;
  c.messages = {{Role::user, "<image>\nWhat?"}, {Role::assistant, "A cat."}, {Role::user, "Sure?"}, {Role::assistant, "Yes."}};
  c.images = {"x.jpg"};
  Rendered r;
  Problem p;
  ASSERT_TRUE(t.render(c, r, p));
  std::string user, assistant, eot;
  size_t images = 0;
  for (const Segment& g : r.segments) {
    if (g.kind == SegmentKind::user) user += g.text;
    if (g.kind == SegmentKind::assistant) assistant += g.text;
    if (g.kind == SegmentKind::end_of_turn) eot += g.text;
    images += g.kind == SegmentKind::image;
    EXPECT_FALSE(g.text.empty());
  }
  EXPECT_EQ(user, "\nWhat?Sure?");
  EXPECT_EQ(assistant, "A cat.Yes.");
  EXPECT_EQ(eot, "<|im_end|><|im_end|><|im_end|><|im_end|>");
  EXPECT_EQ(images, 1u);
  EXPECT_EQ(r.segments.front().kind, SegmentKind::scaffolding);  // "<|im_start|>system\n"
}

TEST(Template, ConversationsThatDoNotFitAreProblems) {
  const TemplateRegistry& reg = TemplateRegistry::builtin();
  struct Case {
    const char* tmpl;
    std::vector<Message> msgs;
    std::vector<std::string> images;
    const char* reason;
  } cases[] = {
      {"gemma_instruct", {{Role::system, "s"}, {Role::user, "q"}, {Role::assistant, "a"}}, {}, "system_not_supported"},
      {"v1", {{Role::user, "q"}, {Role::system, "s"}, {Role::assistant, "a"}}, {}, "system_not_first"},
      {"v1", {{Role::assistant, "a"}, {Role::user, "q"}}, {}, "not_alternating"},
      {"v1", {{Role::user, "q"}, {Role::assistant, "a"}, {Role::user, "q2"}}, {}, "ends_with_user"},
      {"v1", {{Role::user, "q"}, {Role::assistant, " \n"}}, {}, "empty_assistant_turn"},
      {"v1", {{Role::user, "<image> q"}, {Role::assistant, "a"}}, {}, "image_count_mismatch"},
      {"v1", {{Role::system, "s"}}, {}, "no_messages"},
      {"plain", {{Role::user, "q"}, {Role::assistant, "a"}}, {}, "bad_plain_sample"},
  };
  for (const Case& k : cases) {
    Conversation c;
    c.messages = k.msgs;
    c.images = k.images;
    Rendered r;
    Problem p;
    EXPECT_FALSE(reg.find(k.tmpl).render(c, r, p)) << k.reason;
    EXPECT_EQ(p.reason, k.reason);
  }
}

TEST(Template, ImagePlacementFollowsLlava) {
  Conversation c;
  c.messages = {{Role::user, "  Describe\x1c <image>  \xC2\xA0"}, {Role::user, "<image> and <image>"}, {Role::user, "none"}};
  place_images(c, ImagePlacement::llava);
  // Python's str.strip() removes U+001C and U+00A0 too.
  EXPECT_EQ(c.messages[0].content, "<image>\nDescribe");
  EXPECT_EQ(c.messages[1].content, "<image> and <image>");  // several stay where they are
  EXPECT_EQ(c.messages[2].content, "none");
  Conversation n;
  n.messages = {{Role::user, "<image> Describe "}, {Role::user, "Describe <image>"}};
  place_images(n, ImagePlacement::llava_next);
  EXPECT_EQ(n.messages[0].content, "<image> Describe ") << "LLaVA-NeXT leaves a leading <image> alone";
  EXPECT_EQ(n.messages[1].content, "<image>\nDescribe");
  Conversation k;
  k.messages = {{Role::user, "x <image>"}};
  place_images(k, ImagePlacement::keep);
  EXPECT_EQ(k.messages[0].content, "x <image>");
  EXPECT_EQ(py_strip("\t\n\v\f\r \xE2\x80\x83x y\xE3\x80\x80"), "x y");
}

// place_images against LLaVA's preprocess_multimodal steps done literally (remove the
// placeholder, strip, prepend "<image>\n", strip), on random texts around one <image>: ASCII
// and Unicode whitespace (U+001C, U+00A0, U+3000, CR LF) on both sides, words, nothing.
TEST(Template, ImagePlacementIsLlavasStepsOnRandomTexts) {
  const std::vector<std::string> bits = {" ", "\n", "\t", "\r\n", "\x1c", "\xC2\xA0", "\xE3\x80\x80", "a", "word", "<imag", "\xC3\xA9"};
  std::mt19937 rng(5);
  auto text = [&] {
    std::string t;
    for (size_t k = rng() % 6; k > 0; --k) t += bits[rng() % bits.size()];
    return t;
  };
  size_t moved = 0;
  for (int round = 0; round < 5000; ++round) {
    const std::string content = text() + kImageToken + text();
    std::string s = content;  // LLaVA's steps
    s.erase(s.find(kImageToken), std::string(kImageToken).size());
    const std::string want(py_strip(std::string(kImageToken) + "\n" + std::string(py_strip(s))));
    for (const ImagePlacement placement : {ImagePlacement::llava, ImagePlacement::llava_next}) {
      Conversation c;
      c.messages = {{Role::user, content}};
      place_images(c, placement);
      const bool next_keeps = placement == ImagePlacement::llava_next && content.rfind(kImageToken, 0) == 0;
      ASSERT_EQ(c.messages[0].content, next_keeps ? content : want) << "round " << round << ": \"" << content << "\"";
      moved += c.messages[0].content != content;
    }
  }
  EXPECT_GT(moved, 2000u);
}

// placed() hands back the conversation itself exactly when place_images would change no
// message, and otherwise the placed copy.
TEST(Template, PlacedIsPlaceImagesWithoutACopyWhenNothingMoves) {
  const std::vector<std::string> texts = {
      "<image>\nDescribe", "<image>\n Describe", "<image>\nDescribe ", "<image>\n", "<image>", "<image>\n\n",
      "Describe <image>", "<image> Describe", "<image> and <image>", "none", "<image>\n\xC2\xA0x", "<image>\nx\xE3\x80\x80",
      "\n<image>\nx", "<image>\r\nx", "<image>\nx\n<imag", "",
  };
  size_t same = 0, moved = 0;
  for (const ImagePlacement placement : {ImagePlacement::llava, ImagePlacement::llava_next, ImagePlacement::keep})
    for (const std::string& a : texts)
      for (const std::string& b : texts) {
        Conversation c;
        c.messages = {{Role::user, a}, {Role::assistant, "ok"}, {Role::user, b}};
        Conversation want = c;
        place_images(want, placement);
        Conversation scratch;
        const Conversation& got = placed(c, scratch, placement);
        bool changed = false;
        for (size_t i = 0; i < c.messages.size(); ++i) {
          ASSERT_EQ(got.messages[i].content, want.messages[i].content) << a << " | " << b;
          changed |= want.messages[i].content != c.messages[i].content;
        }
        EXPECT_EQ(&got == &c, !changed) << a << " | " << b;
        (changed ? moved : same) += 1;
      }
  EXPECT_GT(same, 100u);
  EXPECT_GT(moved, 100u);
}

}  // namespace
}  // namespace tokalign::chat
