// tokenizer.json loading: a malformed file throws tokalign::Error whose message names the
// source and the problem (the JSON path and the offending value); a small valid file loads
// and encodes like Hugging Face tokenizers. Also the command line's error paths (exit codes
// and messages), run on the built tokalign binary next to this test's build folder.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace tokalign::tok {
namespace {

namespace fs = std::filesystem;

// gmock is not linked into unit_tests; a substring assertion that prints both strings.
::testing::AssertionResult Contains(const char* h_expr, const char* n_expr, const std::string& haystack,
                                    std::string_view needle) {
  if (haystack.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << h_expr << " does not contain " << n_expr << " (\"" << needle << "\")\n  "
                                       << h_expr << " = \"" << haystack << "\"";
}
#define EXPECT_CONTAINS(haystack, needle) EXPECT_PRED_FORMAT2(Contains, haystack, needle)

// A complete small BPE tokenizer.json, written by hand: Lowercase normalizer, Whitespace
// pre-tokenizer, <s> added by a template, no decoder (tokens are joined with spaces).
constexpr std::string_view kTinyBpe = R"json({
  "version": "1.0",
  "truncation": null,
  "padding": null,
  "added_tokens": [
    {"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 1, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
  ],
  "normalizer": {"type": "Lowercase"},
  "pre_tokenizer": {"type": "Whitespace"},
  "post_processor": {
    "type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
    "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
    "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}
  },
  "decoder": null,
  "model": {
    "type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null, "end_of_word_suffix": null,
    "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
    "vocab": {"<unk>": 0, "<s>": 1, "h": 2, "e": 3, "l": 4, "o": 5, "w": 6, "r": 7, "d": 8, "!": 9,
              "he": 10, "ll": 11, "hell": 12, "hello": 13, "or": 14, "wor": 15, "ld": 16, "world": 17},
    "merges": [["h", "e"], ["l", "l"], ["he", "ll"], ["hell", "o"], ["o", "r"], ["w", "or"], ["l", "d"], ["wor", "ld"]]
  }
})json";

constexpr const char* kSource = "tiny.json";

// kTinyBpe with `from` (which must occur exactly once) replaced by `to`.
std::string tiny_with(std::string_view from, std::string_view to) {
  std::string s(kTinyBpe);
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << "fixture has no " << from;
  EXPECT_EQ(s.find(from, at + 1), std::string::npos) << "fixture has more than one " << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// The message of the tokalign::Error that loading `json` throws; fails the test when it
// loads or throws anything else.
std::string load_error(std::string_view json, const std::string& source = kSource) {
  try {
    Tokenizer::from_json(json, source);
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a " << typeid(e).name() << " instead of tokalign::Error: " << e.what();
    return {};
  }
  ADD_FAILURE() << "loaded without an error";
  return {};
}

// Every loader error starts with the source name.
void expect_names_source(const std::string& msg, const std::string& source = kSource) {
  EXPECT_EQ(msg.rfind(source + ": ", 0), 0u) << "message does not start with \"" << source << ": \": " << msg;
}

TEST(Loader, ValidTinyBpeEncodesLikeHuggingFace) {
  Tokenizer t = Tokenizer::from_json(kTinyBpe, kSource);
  EXPECT_EQ(t.source(), kSource);
  EXPECT_EQ(t.vocab_size(), 18u);
  EncodeOptions o;
  o.offsets = true;

  // Golden values produced by Hugging Face tokenizers 0.23.2 (npm, oracle/hf_encode.js
  // --offsets) on this exact file.
  Encoding e = t.encode("Hello World! hello xyz", o);
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{1, 13, 17, 9, 13, 0, 0, 0}));
  EXPECT_EQ(e.offsets, (std::vector<std::pair<uint32_t, uint32_t>>{
                           {0, 0}, {0, 5}, {6, 11}, {11, 12}, {13, 18}, {19, 20}, {20, 21}, {21, 22}}));
  EXPECT_EQ(e.special_mask, (std::vector<uint8_t>{1, 0, 0, 0, 0, 0, 0, 0}));

  // Produced by HF tokenizers 0.23.2: the added token <s> matched inside the text.
  e = t.encode("held <s>low", o);
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{1, 10, 16, 1, 4, 5, 6}));
  EXPECT_EQ(e.offsets, (std::vector<std::pair<uint32_t, uint32_t>>{{0, 0}, {0, 2}, {2, 4}, {5, 8}, {8, 9}, {9, 10}, {10, 11}}));

  // Produced by HF tokenizers 0.23.2 with --no-parse-special --no-add-special.
  o.parse_special = false;
  o.add_special_tokens = false;
  e = t.encode("held <s>low", o);
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{10, 16, 0, 0, 0, 4, 5, 6}));

  // Produced by HF tokenizers 0.23.2: an empty text is the template's <s> alone.
  EXPECT_EQ(t.encode("", {}).ids, (std::vector<uint32_t>{1}));

  // Produced by HF tokenizers 0.23.2 (hf_encode.js --decode): no decoder joins tokens with spaces.
  std::vector<uint32_t> ids = {1, 13, 17, 9, 13, 0, 0, 0};
  EXPECT_EQ(t.decode(ids), "<s> hello world ! hello <unk> <unk> <unk>");
}

TEST(Loader, TruncatedJson) {
  const std::string full(kTinyBpe);
  for (size_t cut : {size_t{1}, full.size() / 3, full.size() / 2, full.size() - 1}) {
    std::string msg = load_error(full.substr(0, cut));
    expect_names_source(msg);
    EXPECT_CONTAINS(msg, "not valid JSON") << "cut at " << cut;
  }
}

TEST(Loader, TrailingGarbage) {
  std::string msg = load_error(std::string(kTinyBpe) + " xyz");
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "not valid JSON");
}

TEST(Loader, EmptyFile) {
  for (std::string_view empty : {"", "  \n\t"}) {
    std::string msg = load_error(empty);
    expect_names_source(msg);
    EXPECT_CONTAINS(msg, "not valid JSON");
  }
}

TEST(Loader, TopLevelArray) {
  std::string msg = load_error(R"([{"model": {"type": "BPE", "vocab": {}, "merges": []}}])");
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "top level");
  EXPECT_CONTAINS(msg, "expected a JSON object");
}

TEST(Loader, MissingModel) {
  std::string s(kTinyBpe);
  s = s.substr(0, s.find(",\n  \"model\"")) + "\n}";
  std::string msg = load_error(s);
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "missing field \"model\"");
}

TEST(Loader, VocabIsAString) {
  std::string msg = load_error(tiny_with(R"("vocab": {"<unk>": 0,)", R"("vocab": "abc", "x": {"<unk>": 0,)"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "model.vocab");
  EXPECT_CONTAINS(msg, "expected an object");
}

TEST(Loader, VocabIdIsAString) {
  std::string msg = load_error(tiny_with(R"("w": 6,)", R"("w": "6",)"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "model.vocab");
  EXPECT_CONTAINS(msg, "\"w\"");
}

TEST(Loader, MergesEntryIsANumber) {
  std::string msg = load_error(tiny_with(R"(["l", "l"])", "42"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "model.merges[1]");
}

TEST(Loader, MergesEntryIsATriple) {
  std::string msg = load_error(tiny_with(R"(["l", "l"])", R"(["l", "l", "l"])"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "model.merges[1]");
}

TEST(Loader, MergesStringWithoutOneSpace) {
  std::string msg = load_error(tiny_with(R"(["l", "l"])", R"("l l l")"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "model.merges[1]");
  EXPECT_CONTAINS(msg, "\"l l l\"");
}

TEST(Loader, AddedTokenIdNegative) {
  std::string msg = load_error(tiny_with(R"({"id": 1, "content": "<s>")", R"({"id": -1, "content": "<s>")"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "added_tokens[1].id");
  EXPECT_CONTAINS(msg, "out of range");
}

TEST(Loader, AddedTokenContentNotAString) {
  std::string msg = load_error(tiny_with(R"("content": "<s>")", R"("content": 5)"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "added_tokens[1].content");
  EXPECT_CONTAINS(msg, "expected a string");
}

TEST(Loader, UnknownNormalizer) {
  std::string msg = load_error(tiny_with(R"({"type": "Lowercase"})", R"({"type": "Foo"})"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "at normalizer");
  EXPECT_CONTAINS(msg, "normalizer type \"Foo\" is not supported");
}

TEST(Loader, UnsupportedPreTokenizer) {
  // HF has UnicodeScripts; tokalign refuses it by name rather than approximating it.
  std::string msg = load_error(tiny_with(R"({"type": "Whitespace"})", R"({"type": "UnicodeScripts"})"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "at pre_tokenizer");
  EXPECT_CONTAINS(msg, "pre_tokenizer type \"UnicodeScripts\" is not supported");
}

TEST(Loader, UnknownModel) {
  std::string msg = load_error(tiny_with(R"("type": "BPE")", R"("type": "Bogus")"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "at model");
  EXPECT_CONTAINS(msg, "model type \"Bogus\" is not supported");
}

TEST(Loader, UnknownDecoder) {
  std::string msg = load_error(tiny_with(R"("decoder": null)", R"("decoder": {"type": "Nope"})"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "at decoder");
  EXPECT_CONTAINS(msg, "decoder type \"Nope\" is not supported");
}

TEST(Loader, UnknownDecoderInsideASequence) {
  std::string msg = load_error(
      tiny_with(R"("decoder": null)", R"("decoder": {"type": "Sequence", "decoders": [{"type": "Fuse"}, {"type": "Nope"}]})"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "decoder.decoders[1]");
  EXPECT_CONTAINS(msg, "\"Nope\"");
}

TEST(Loader, MergeNamesATokenMissingFromTheVocab) {
  std::string msg = load_error(tiny_with(R"(["l", "l"])", R"(["l", "q"])"));
  expect_names_source(msg);
  // The message reads "at model: merges[1] "l q": token "q" is not in the vocab".
  EXPECT_CONTAINS(msg, "model");
  EXPECT_CONTAINS(msg, "merges[1]");
  EXPECT_CONTAINS(msg, "\"q\"");
  EXPECT_CONTAINS(msg, "not in the vocab");
}

TEST(Loader, MergeResultMissingFromTheVocab) {
  std::string msg = load_error(tiny_with(R"(["l", "d"])", R"(["l", "o"])"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "merges[6]");
  EXPECT_CONTAINS(msg, "\"lo\"");
  EXPECT_CONTAINS(msg, "not in the vocab");
}

TEST(Loader, UnkTokenNotInVocab) {
  // Note: HF tokenizers 0.23.2 loads this file and only fails when a text needs the unk
  // token; tokalign refuses it when loading.
  std::string msg = load_error(tiny_with(R"("unk_token": "<unk>")", R"("unk_token": "<oov>")"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "model");
  EXPECT_CONTAINS(msg, "unk_token \"<oov>\"");
  EXPECT_CONTAINS(msg, "not in the vocab");
}

TEST(Loader, InvalidRegexInSplit) {
  std::string msg = load_error(tiny_with(
      R"({"type": "Whitespace"})", R"({"type": "Split", "pattern": {"Regex": "(ab"}, "behavior": "Isolated", "invert": false})"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "pre_tokenizer.pattern.Regex");
  EXPECT_CONTAINS(msg, "(ab");
  EXPECT_CONTAINS(msg, "parenthesis");
}

TEST(Loader, UnknownSplitBehavior) {
  std::string msg = load_error(tiny_with(
      R"({"type": "Whitespace"})", R"({"type": "Split", "pattern": {"String": " "}, "behavior": "Sideways", "invert": false})"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "pre_tokenizer.behavior");
  EXPECT_CONTAINS(msg, "\"Sideways\"");
}

TEST(Loader, TruncationIsNotSupported) {
  std::string msg = load_error(tiny_with(
      R"("truncation": null)",
      R"("truncation": {"direction": "Right", "max_length": 512, "strategy": "LongestFirst", "stride": 0})"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "at truncation");
  EXPECT_CONTAINS(msg, "not supported");
}

TEST(Loader, PaddingIsNotSupported) {
  std::string msg = load_error(tiny_with(R"("padding": null)", R"("padding": {"strategy": "BatchLongest"})"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "at padding");
  EXPECT_CONTAINS(msg, "not supported");
}

TEST(Loader, BpeDropoutIsNotSupported) {
  std::string msg = load_error(tiny_with(R"("dropout": null)", R"("dropout": 0.1)"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "model.dropout");
}

TEST(Loader, TemplateNamesAnUndefinedSpecialToken) {
  // HF tokenizers 0.23.2 panics on this file ("no entry found for key"); tokalign explains.
  std::string msg = load_error(tiny_with(R"("single": [{"SpecialToken": {"id": "<s>")",
                                         R"("single": [{"SpecialToken": {"id": "<bos>")"));
  expect_names_source(msg);
  EXPECT_CONTAINS(msg, "post_processor.single[0]");
  EXPECT_CONTAINS(msg, "\"<bos>\"");
}

TEST(Loader, SourceNameIsUsedVerbatim) {
  std::string msg = load_error("[]", "models/my model/tokenizer.json");
  expect_names_source(msg, "models/my model/tokenizer.json");
}

// --- from_file -------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tokalign-loader-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string write(const std::string& name, std::string_view content) const {
    fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

 private:
  fs::path path_;
};

TEST(LoaderFile, MissingFileNamesThePath) {
  TempDir dir;
  std::string path = (dir.path() / "nope" / "tokenizer.json").string();
  try {
    Tokenizer::from_file(path);
    FAIL() << "loaded a missing file";
  } catch (const Error& e) {
    EXPECT_CONTAINS(std::string(e.what()), path);
  }
}

TEST(LoaderFile, FolderWithoutTokenizerJson) {
  TempDir dir;
  try {
    Tokenizer::from_file(dir.path().string());
    FAIL() << "loaded an empty folder";
  } catch (const Error& e) {
    EXPECT_CONTAINS(std::string(e.what()), dir.path().string());
    EXPECT_CONTAINS(std::string(e.what()), "no tokenizer.json");
  }
}

TEST(LoaderFile, FolderWithTokenizerJson) {
  TempDir dir;
  dir.write("model/tokenizer.json", kTinyBpe);
  Tokenizer t = Tokenizer::from_file((dir.path() / "model").string());
  EXPECT_EQ(t.encode("hello", {}).ids, (std::vector<uint32_t>{1, 13}));
}

TEST(LoaderFile, BadFileErrorNamesTheFile) {
  TempDir dir;
  std::string path = dir.write("tokenizer.json", tiny_with(R"(["l", "l"])", R"(["l", "q"])"));
  try {
    Tokenizer::from_file(path);
    FAIL() << "loaded a bad file";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
  }
}

// --- the command line ------------------------------------------------------------------

// The tokalign binary of the build this test belongs to: BUILD/tests/unit_tests -> BUILD/tokalign.
std::string tokalign_binary() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  fs::path bin = self.parent_path().parent_path() / "tokalign";
  return fs::exists(bin) ? bin.string() : std::string();
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out.push_back(c);
  }
  return out + "'";
}

struct CliResult {
  int status = -1;     // exit status
  std::string output;  // stdout and stderr
};

// Runs the command line with the given arguments (already quoted) and stdin from `input`.
CliResult run_cli(const TempDir& dir, const std::string& args, std::string_view input = {}) {
  std::string in = dir.write("stdin.txt", input);
  std::string cmd = shell_quote(tokalign_binary()) + " " + args + " <" + shell_quote(in) + " 2>&1";
  CliResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (tokalign_binary().empty()) GTEST_SKIP() << "no tokalign binary beside the tests' build folder";
    tokenizer_ = dir_.write("tokenizer.json", kTinyBpe);
  }
  TempDir dir_;
  std::string tokenizer_;
};

TEST_F(Cli, EncodesTheTinyTokenizer) {
  CliResult r = run_cli(dir_, "encode -t " + shell_quote(tokenizer_) + " --jsonl", "{\"text\":\"Hello World! hello xyz\"}\n");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "{\"ids\":[1,13,17,9,13,0,0,0]}\n");
}

TEST_F(Cli, BadJsonlLineNamesTheLine) {
  CliResult r = run_cli(dir_, "encode -t " + shell_quote(tokenizer_) + " --jsonl",
                  "{\"text\":\"hello\"}\n{\"text\":\"world\"}\n{\"text\": \n{\"text\":\"x\"}\n");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_CONTAINS(r.output, "<stdin>:3: not valid JSON");
}

TEST_F(Cli, JsonlLineWithoutTextNamesTheLine) {
  CliResult r = run_cli(dir_, "encode -t " + shell_quote(tokenizer_) + " --jsonl", "{\"text\":\"hello\"}\n{\"text\": 5}\n");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_CONTAINS(r.output, "<stdin>:2:");
  EXPECT_CONTAINS(r.output, "\"text\"");
}

TEST_F(Cli, BadJsonlInAFileNamesTheFile) {
  std::string in = dir_.write("in.jsonl", "{\"text\":\"hello\"}\nnot json\n");
  CliResult r = run_cli(dir_, "encode -t " + shell_quote(tokenizer_) + " --jsonl -i " + shell_quote(in));
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_CONTAINS(r.output, in + ":2:");
}

TEST_F(Cli, MissingTokenizerOptionIsAUsageError) {
  CliResult r = run_cli(dir_, "encode --text hello");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_CONTAINS(r.output, "--tokenizer");
}

TEST_F(Cli, UnknownOptionIsAUsageError) {
  CliResult r = run_cli(dir_, "encode -t " + shell_quote(tokenizer_) + " --bogus");
  EXPECT_EQ(r.status, 2) << r.output;
}

TEST_F(Cli, NonexistentTokenizerPath) {
  std::string path = (dir_.path() / "no-such-model" / "tokenizer.json").string();
  CliResult r = run_cli(dir_, "encode -t " + shell_quote(path) + " --text hello");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_CONTAINS(r.output, path);
}

TEST_F(Cli, MalformedTokenizerFile) {
  std::string path = dir_.write("bad/tokenizer.json", tiny_with(R"({"type": "Lowercase"})", R"({"type": "Foo"})"));
  CliResult r = run_cli(dir_, "encode -t " + shell_quote(path) + " --text hello");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_CONTAINS(r.output, path + ": at normalizer");
  EXPECT_CONTAINS(r.output, "\"Foo\"");
}

TEST_F(Cli, InvalidUtf8InAJsonText) {
  // Raw invalid bytes inside the JSON string on line 2.
  CliResult r = run_cli(dir_, "encode -t " + shell_quote(tokenizer_) + " --jsonl", "{\"text\":\"ok\"}\n{\"text\":\"a\xFF\xFE b\"}\n");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_CONTAINS(r.output, "<stdin>:2:");
  EXPECT_CONTAINS(r.output, "UTF-8");
}

TEST_F(Cli, LoneSurrogateEscapeInAJsonText) {
  CliResult r = run_cli(dir_, "encode -t " + shell_quote(tokenizer_) + " --jsonl", "{\"text\":\"ok\"}\n{\"text\":\"a\\ud800b\"}\n");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_CONTAINS(r.output, "<stdin>:2:");
}

TEST_F(Cli, InvalidUtf8PlainText) {
  CliResult r = run_cli(dir_, "encode -t " + shell_quote(tokenizer_), "ab\xC0\xAF" "cd");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_CONTAINS(r.output, "not valid UTF-8 at byte 2");
}

TEST_F(Cli, DecodeBadIdNamesTheLine) {
  CliResult r = run_cli(dir_, "decode -t " + shell_quote(tokenizer_) + " --jsonl", "{\"ids\":[1,13]}\n{\"ids\":[1,-5]}\n");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_CONTAINS(r.output, "<stdin>:2:");
}

}  // namespace
}  // namespace tokalign::tok
