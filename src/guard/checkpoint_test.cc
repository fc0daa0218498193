// Checkpoints on disk: finding and judging them (HF trainer_state.json with Python's NaN,
// truncated or mismatched state, empty files, names that are not checkpoints), the pattern
// check, the NaN quoting, setting a checkpoint aside with hard links, and the HF copy that
// skips data.
#include "guard/checkpoint.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "util/error.h"

namespace tokalign::guard {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f << text;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// trainer_state.json as HF's TrainerState.save_to_json writes it (json.dumps, indent 2, sorted
// keys: Python writes float('nan') as a bare NaN).
std::string trainer_state(int64_t global_step, const std::string& log_history) {
  return "{\n  \"best_metric\": null,\n  \"best_model_checkpoint\": null,\n  \"epoch\": 0.5,\n"
         "  \"eval_steps\": 500,\n  \"global_step\": " +
         std::to_string(global_step) +
         ",\n  \"is_hyper_param_search\": false,\n  \"log_history\": [" + log_history +
         "],\n  \"logging_steps\": 5,\n  \"max_steps\": 100\n}\n";
}

class GuardCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() /
            ("tokalign-guard-ckpt-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // An HF checkpoint folder with weights, optimizer state and trainer_state.json.
  fs::path hf_checkpoint(const std::string& name, const std::string& state) {
    fs::path d = root_ / "run" / name;
    write(d / "model.safetensors", "weights of " + name);
    write(d / "optimizer.pt", "optimizer of " + name);
    write(d / "trainer_state.json", state);
    return d;
  }

  fs::path root_;
};

const Checkpoint* at_step(const std::vector<Checkpoint>& cs, int64_t step) {
  for (const Checkpoint& c : cs)
    if (c.step == step) return &c;
  return nullptr;
}

TEST_F(GuardCheckpoint, FindJudgesAndSortsHfCheckpoints) {
  hf_checkpoint("checkpoint-10", trainer_state(10, R"(
    {"epoch": 0.25, "grad_norm": 1.1, "learning_rate": 5e-05, "loss": 2.5, "step": 5},
    {"epoch": 0.5, "grad_norm": 1.0, "learning_rate": 4e-05, "loss": 2.4, "step": 10})"));
  hf_checkpoint("checkpoint-20", trainer_state(20, R"(
    {"epoch": 0.25, "grad_norm": 1.1, "learning_rate": 5e-05, "loss": 2.5, "step": 5},
    {"epoch": 0.5, "grad_norm": NaN, "learning_rate": 4e-05, "loss": 2.4, "step": 15},
    {"epoch": 0.6, "grad_norm": 1.0, "learning_rate": 3e-05, "loss": NaN, "step": 20})"));
  // numeric order: 5 < 10 (a string sort would put checkpoint-5 last)
  hf_checkpoint("checkpoint-5", trainer_state(5, R"({"loss": 2.6, "grad_norm": 1.2, "step": 5})"));
  // truncated: the save was interrupted
  hf_checkpoint("checkpoint-30", trainer_state(30, R"({"loss": 2.3, "step": 30})").substr(0, 60));
  // an empty file in an otherwise good checkpoint
  fs::path dir40 = hf_checkpoint("checkpoint-40", trainer_state(40, R"({"loss": 2.2, "step": 40})"));
  write(dir40 / "scheduler.pt", "");
  // trainer_state.json disagrees with the folder's name
  hf_checkpoint("checkpoint-50", trainer_state(60, R"({"loss": 2.1, "step": 50})"));
  // loss exactly 0 with no grad norm in the history: an all-masked batch
  hf_checkpoint("checkpoint-70", trainer_state(70, R"(
    {"loss": 2.0, "grad_norm": 0.9, "step": 60}, {"loss": 0.0, "step": 65}, {"loss": 1.9, "grad_norm": 0.8, "step": 70})"));
  // Infinity and -Infinity the Python way
  hf_checkpoint("checkpoint-80", trainer_state(80, R"({"loss": 2.0, "grad_norm": Infinity, "step": 75})"));
  hf_checkpoint("checkpoint-90", trainer_state(90, R"({"eval_loss": -Infinity, "step": 85})"));
  // "NaN" inside a string is not a non-finite number
  hf_checkpoint("checkpoint-95",
                trainer_state(95, R"({"loss": 1.8, "grad_norm": 0.7, "note": "NaN Infinity", "step": 95})"));
  // not checkpoints of this pattern
  hf_checkpoint("checkpoint-abc", trainer_state(1, ""));
  hf_checkpoint("checkpoint-10-skip-to-20", trainer_state(20, ""));
  hf_checkpoint("checkpoint-", trainer_state(0, ""));
  hf_checkpoint("my-checkpoint-15", trainer_state(15, ""));
  write(root_ / "run" / "tokalign-guard-incidents.jsonl", "{}\n");

  std::vector<Checkpoint> cs = find_checkpoints((root_ / "run").string(), "checkpoint-{step}");
  std::vector<int64_t> steps;
  for (const Checkpoint& c : cs) steps.push_back(c.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{5, 10, 20, 30, 40, 50, 70, 80, 90, 95}));

  const Checkpoint* c10 = at_step(cs, 10);
  ASSERT_NE(c10, nullptr);
  EXPECT_TRUE(c10->hf);
  EXPECT_EQ(c10->problem, "");
  EXPECT_EQ(c10->bad_history_step, -1);
  EXPECT_EQ(fs::path(c10->path), root_ / "run" / "checkpoint-10");

  const Checkpoint* c5 = at_step(cs, 5);
  ASSERT_NE(c5, nullptr);
  EXPECT_EQ(c5->problem, "");
  EXPECT_EQ(c5->bad_history_step, -1);

  const Checkpoint* c20 = at_step(cs, 20);
  ASSERT_NE(c20, nullptr);
  EXPECT_EQ(c20->problem, "");  // readable; it is its history that is bad
  EXPECT_EQ(c20->bad_history_step, 15);  // the first bad entry
  EXPECT_FALSE(c20->bad_history.empty());

  const Checkpoint* c30 = at_step(cs, 30);
  ASSERT_NE(c30, nullptr);
  EXPECT_FALSE(c30->problem.empty());

  const Checkpoint* c40 = at_step(cs, 40);
  ASSERT_NE(c40, nullptr);
  EXPECT_NE(c40->problem.find("scheduler.pt"), std::string::npos) << c40->problem;

  const Checkpoint* c50 = at_step(cs, 50);
  ASSERT_NE(c50, nullptr);
  EXPECT_FALSE(c50->problem.empty());

  // Readable checkpoints and the first bad step of their history (-1: clean).
  for (auto [step, bad_step] : {std::pair<int64_t, int64_t>{70, 65}, {80, 75}, {90, 85}, {95, -1}}) {
    SCOPED_TRACE(step);
    const Checkpoint* c = at_step(cs, step);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->problem, "");
    EXPECT_EQ(c->bad_history_step, bad_step);
  }
}

// A global_step that is not an integer never agrees with the folder's step. (Converting NaN or
// 1e300 to int64 is undefined behaviour: run this under TOKALIGN_SANITIZE to see it reported.)
TEST_F(GuardCheckpoint, NonIntegerGlobalStepIsAProblem) {
  hf_checkpoint("checkpoint-10", "{\"global_step\": NaN, \"log_history\": []}");
  hf_checkpoint("checkpoint-20", "{\"global_step\": 1e300, \"log_history\": []}");
  hf_checkpoint("checkpoint-30", "{\"global_step\": \"thirty\", \"log_history\": []}");
  hf_checkpoint("checkpoint-40", "{\"log_history\": []}");
  std::vector<Checkpoint> cs = find_checkpoints((root_ / "run").string(), "checkpoint-{step}");
  ASSERT_EQ(cs.size(), 4u);
  for (const Checkpoint& c : cs) EXPECT_FALSE(c.problem.empty()) << c.path;
}

TEST_F(GuardCheckpoint, MegatronPatternAndMissingDir) {
  write(root_ / "ckpt" / "iter_0000100" / "mp_rank_00" / "model_optim_rng.pt", "state");
  write(root_ / "ckpt" / "iter_0000200" / "mp_rank_00" / "model_optim_rng.pt", "state");
  write(root_ / "ckpt" / "iter_0000300" / "mp_rank_00" / "model_optim_rng.pt", "");  // interrupted
  write(root_ / "ckpt" / "latest_checkpointed_iteration.txt", "300");
  std::vector<Checkpoint> cs = find_checkpoints((root_ / "ckpt").string(), "iter_{step}");
  ASSERT_EQ(cs.size(), 3u);
  EXPECT_EQ(cs[0].step, 100);
  EXPECT_EQ(cs[1].step, 200);
  EXPECT_EQ(cs[2].step, 300);
  EXPECT_FALSE(cs[0].hf);
  EXPECT_EQ(cs[0].problem, "");
  EXPECT_EQ(cs[1].problem, "");
  EXPECT_FALSE(cs[2].problem.empty());

  EXPECT_TRUE(find_checkpoints((root_ / "nope").string(), "checkpoint-{step}").empty());
  EXPECT_TRUE(find_checkpoints("", "checkpoint-{step}").empty());
}

TEST(GuardCheckpointPattern, Check) {
  EXPECT_NO_THROW(check_checkpoint_pattern("checkpoint-{step}"));
  EXPECT_NO_THROW(check_checkpoint_pattern("iter_{step}"));
  EXPECT_NO_THROW(check_checkpoint_pattern("step{step}.pt"));
  EXPECT_THROW(check_checkpoint_pattern("checkpoint"), Error);
  EXPECT_THROW(check_checkpoint_pattern(""), Error);
  EXPECT_THROW(check_checkpoint_pattern("{step}-{step}"), Error);
  EXPECT_THROW(check_checkpoint_pattern("run/checkpoint-{step}"), Error);
  EXPECT_THROW(check_checkpoint_pattern("checkpoint-{STEP}"), Error);
}

TEST(GuardCheckpointJson, QuoteNonFinite) {
  const std::string in =
      R"({"a": NaN, "b": Infinity, "c": -Infinity, "d": [NaN, 1.5, -Infinity], "s": "NaN and Infinity", )"
      R"("t": "esc \" NaN \\", "NaN": 1})";
  const std::string want =
      R"({"a": "NaN", "b": "Infinity", "c": "-Infinity", "d": ["NaN", 1.5, "-Infinity"], "s": "NaN and Infinity", )"
      R"("t": "esc \" NaN \\", "NaN": 1})";
  EXPECT_EQ(quote_non_finite_json(in), want);

  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(quote_non_finite_json(in)).get(root), simdjson::SUCCESS);
  std::string_view s;
  ASSERT_EQ(root["a"].get_string().get(s), simdjson::SUCCESS);
  EXPECT_EQ(s, "NaN");
  ASSERT_EQ(root["t"].get_string().get(s), simdjson::SUCCESS);
  EXPECT_EQ(s, "esc \" NaN \\");

  // Valid JSON passes through unchanged.
  const std::string plain = R"({"x": [1, 2.5e-3, true, null, "Infinity"]})";
  EXPECT_EQ(quote_non_finite_json(plain), plain);
  EXPECT_EQ(quote_non_finite_json(""), "");
}

TEST_F(GuardCheckpoint, ProtectHardLinksAndSurvivesRotation) {
  fs::path c10 = hf_checkpoint("checkpoint-10", trainer_state(10, R"({"loss": 2.4, "step": 10})"));
  write(c10 / "sub" / "rng_state.pth", "rng");
  auto cs = find_checkpoints((root_ / "run").string(), "checkpoint-{step}");
  ASSERT_EQ(cs.size(), 1u);
  const fs::path aside = root_ / "run" / ".tokalign-guard";

  std::string copy = protect_checkpoint(cs[0], aside.string());
  EXPECT_EQ(fs::path(copy), aside / "checkpoint-10");
  for (const char* f : {"model.safetensors", "optimizer.pt", "trainer_state.json", "sub/rng_state.pth"}) {
    ASSERT_TRUE(fs::exists(fs::path(copy) / f)) << f;
    EXPECT_TRUE(fs::equivalent(fs::path(copy) / f, c10 / f)) << f << " is not a hard link";
  }
  // An existing copy is reused.
  EXPECT_EQ(protect_checkpoint(cs[0], aside.string()), copy);

  // HF's rotation deletes the original: the copy keeps the data.
  fs::remove_all(c10);
  EXPECT_EQ(slurp(fs::path(copy) / "model.safetensors"), "weights of checkpoint-10");
  EXPECT_EQ(slurp(fs::path(copy) / "sub" / "rng_state.pth"), "rng");
  EXPECT_EQ(fs::hard_link_count(fs::path(copy) / "model.safetensors"), 1u);
}

TEST_F(GuardCheckpoint, PrepareHfSkip) {
  fs::path c10 = hf_checkpoint("checkpoint-10", trainer_state(10, R"(
    {"loss": 2.5, "grad_norm": 1.1, "step": 5}, {"loss": 2.4, "grad_norm": 1.0, "step": 10})"));
  const std::string original_state = slurp(c10 / "trainer_state.json");
  auto cs = find_checkpoints((root_ / "run").string(), "checkpoint-{step}");
  ASSERT_EQ(cs.size(), 1u);
  ASSERT_TRUE(cs[0].hf);
  const fs::path aside = root_ / "aside";

  std::string copy = prepare_hf_skip(cs[0], 60, aside.string());
  ASSERT_TRUE(fs::is_directory(copy));
  EXPECT_TRUE(fs::path(copy).parent_path() == aside) << copy;
  // The other files are links to the checkpoint's own.
  for (const char* f : {"model.safetensors", "optimizer.pt"})
    EXPECT_TRUE(fs::equivalent(fs::path(copy) / f, c10 / f)) << f;
  // trainer_state.json is a copy, edited: global_step is the new value, the rest kept.
  EXPECT_FALSE(fs::equivalent(fs::path(copy) / "trainer_state.json", c10 / "trainer_state.json"));
  EXPECT_EQ(slurp(c10 / "trainer_state.json"), original_state);  // the original untouched
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string state = quote_non_finite_json(slurp(fs::path(copy) / "trainer_state.json"));
  ASSERT_EQ(parser.parse(state).get(root), simdjson::SUCCESS) << state;
  int64_t gs = 0;
  ASSERT_EQ(root["global_step"].get_int64().get(gs), simdjson::SUCCESS);
  EXPECT_EQ(gs, 60);
  simdjson::dom::array history;
  ASSERT_EQ(root["log_history"].get_array().get(history), simdjson::SUCCESS);
  EXPECT_EQ(history.size(), 2u);
  int64_t max_steps = 0;
  ASSERT_EQ(root["max_steps"].get_int64().get(max_steps), simdjson::SUCCESS);
  EXPECT_EQ(max_steps, 100);

  // Not an HF checkpoint: nothing to edit.
  write(root_ / "ckpt" / "iter_0000100" / "model_optim_rng.pt", "state");
  auto meg = find_checkpoints((root_ / "ckpt").string(), "iter_{step}");
  ASSERT_EQ(meg.size(), 1u);
  ASSERT_FALSE(meg[0].hf);
  EXPECT_THROW(prepare_hf_skip(meg[0], 150, aside.string()), Error);
}

}  // namespace
}  // namespace tokalign::guard
