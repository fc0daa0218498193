// The supervisor's command-line handling: reading the trainer's own arguments, building the
// restart command from the templates, and validating the configuration.
#include "guard/supervisor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "util/error.h"

namespace tokalign::guard {
namespace {

using Argv = std::vector<std::string>;

TEST(GuardSupervisor, FindArgument) {
  const Argv argv = {"python", "train.py", "--output_dir", "out", "--logging_steps=10", "-o", "short"};
  EXPECT_EQ(find_argument(argv, {"--output_dir", "--output-dir"}), "out");
  EXPECT_EQ(find_argument(argv, {"--logging_steps", "--logging-steps"}), "10");
  EXPECT_EQ(find_argument(argv, {"-o"}), "short");
  EXPECT_EQ(find_argument(argv, {"--save_steps"}), "");
  EXPECT_EQ(find_argument({"train.py", "--output-dir=o2"}, {"--output_dir", "--output-dir"}), "o2");
  // A longer option that merely starts with the name is another option.
  EXPECT_EQ(find_argument({"train.py", "--output_dir_extra", "x", "--output_dirx=y"}, {"--output_dir"}), "");
  // An option at the end without a value has none.
  EXPECT_EQ(find_argument({"train.py", "--output_dir"}, {"--output_dir"}), "");
}

TEST(GuardSupervisor, FindArgumentLastWins) {
  EXPECT_EQ(find_argument({"t", "--x", "a", "--x=b"}, {"--x"}), "b");
  EXPECT_EQ(find_argument({"t", "--x=b", "--x", "a"}, {"--x"}), "a");
  EXPECT_EQ(find_argument({"t", "--x", "a", "--y", "c", "--x", "d"}, {"--x"}), "d");
  EXPECT_EQ(find_argument({"t", "--output_dir", "a", "--output-dir", "b"}, {"--output_dir", "--output-dir"}), "b");
}

TEST(GuardSupervisor, RestartCommandReplacesTheResumeOption) {
  const Argv argv = {"python", "train.py", "--output_dir", "out", "--resume_from_checkpoint", "old",
                     "--learning_rate", "1e-4", "--resume_from_checkpoint=old2", "--seed", "7"};
  TemplateValues v;
  v.checkpoint = "/out/.tokalign-guard/checkpoint-300";
  v.step = 300;
  Argv out = restart_command(argv, {"--resume_from_checkpoint {checkpoint}"}, v);
  EXPECT_EQ(out, (Argv{"python", "train.py", "--output_dir", "out", "--learning_rate", "1e-4", "--seed", "7",
                       "--resume_from_checkpoint", "/out/.tokalign-guard/checkpoint-300"}));
}

TEST(GuardSupervisor, RestartCommandNeverDropsArgv0) {
  TemplateValues v;
  v.checkpoint = "ck";
  Argv out = restart_command({"--resume_from_checkpoint", "x", "--resume_from_checkpoint", "y"},
                             {"--resume_from_checkpoint {checkpoint}"}, v);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0], "--resume_from_checkpoint");
  EXPECT_EQ(out.back(), "ck");
  EXPECT_EQ(out[out.size() - 2], "--resume_from_checkpoint");
  // "y", the value of the later occurrence, went with it.
  EXPECT_EQ(std::count(out.begin(), out.end(), std::string("y")), 0);
}

TEST(GuardSupervisor, RestartCommandFillsEveryPlaceholder) {
  const Argv argv = {"torchrun", "pretrain.py", "--skip-steps", "1-2", "--lr-scale", "0.9", "--load", "old",
                     "--tag", "keep"};
  TemplateValues v;
  v.checkpoint = "/ckpt/iter_0000300";
  v.step = 300;
  v.skip_from = 301;
  v.skip_to = 468;
  v.lr_factor = 0.5;
  v.attempt = 3;
  Argv out = restart_command(
      argv, {"--load {checkpoint} --ckpt-step {step}", "--skip-steps {skip_from}-{skip_to}", "--lr-scale {lr_factor}",
             "--run-name attempt{attempt}"},
      v);
  EXPECT_EQ(out, (Argv{"torchrun", "pretrain.py", "--tag", "keep", "--load", "/ckpt/iter_0000300", "--ckpt-step",
                       "300", "--skip-steps", "301-468", "--lr-scale", "0.5", "--run-name", "attempt3"}));
}

TEST(GuardSupervisor, RestartCommandWithoutTemplatesKeepsArgv) {
  const Argv argv = {"python", "train.py", "--resume_from_checkpoint", "x"};
  EXPECT_EQ(restart_command(argv, {}, TemplateValues{}), argv);
}

// supervisor.h: the restart command is "argv without the options the templates set". A
// template written in the --option={placeholder} form sets --option just as much as one
// written "--option {placeholder}" does, so the trainer's own --option must go.
TEST(GuardSupervisor, RestartCommandDropsOptionsOfEqualsFormTemplates) {
  const Argv argv = {"python", "train.py", "--resume_from_checkpoint=old", "--lr-scale", "0.9"};
  TemplateValues v;
  v.checkpoint = "new";
  v.lr_factor = 0.5;
  Argv out = restart_command(argv, {"--resume_from_checkpoint={checkpoint}", "--lr-scale={lr_factor}"}, v);
  EXPECT_EQ(out, (Argv{"python", "train.py", "--resume_from_checkpoint=new", "--lr-scale=0.5"}));
}

SupervisorConfig valid_config() {
  SupervisorConfig c;
  c.command = {"python", "train.py", "--output_dir", "out"};
  return c;
}

TEST(GuardSupervisor, ConfigDefaultsAreValid) {
  EXPECT_NO_THROW(check_supervisor_config(valid_config()));
  SupervisorConfig c = valid_config();
  c.skip_template = "--skip-steps {skip_from}-{skip_to}";
  c.lr_template = "--lr-scale {lr_factor}";
  c.resume_template = "--load {checkpoint} --tag try{attempt}";
  EXPECT_NO_THROW(check_supervisor_config(c));
  c.skip_template = "--skip-until {skip_to}";  // one of the two is enough
  EXPECT_NO_THROW(check_supervisor_config(c));
  c.resume_template = "--resume-step {step}";
  EXPECT_NO_THROW(check_supervisor_config(c));
}

TEST(GuardSupervisor, ConfigRejectsEmptyCommand) {
  SupervisorConfig c = valid_config();
  c.command.clear();
  EXPECT_THROW(check_supervisor_config(c), Error);
}

TEST(GuardSupervisor, ConfigRejectsUnknownPlaceholders) {
  for (const char* bad : {"--resume {ckpt}", "--resume {checkpoint} {Step}", "--resume {checkpoint"}) {
    SupervisorConfig c = valid_config();
    c.resume_template = bad;
    EXPECT_THROW(check_supervisor_config(c), Error) << bad;
  }
  SupervisorConfig c = valid_config();
  c.skip_template = "--skip {skip_from}-{skip_until}";
  EXPECT_THROW(check_supervisor_config(c), Error);
  c = valid_config();
  c.lr_template = "--lr {lr}";
  EXPECT_THROW(check_supervisor_config(c), Error);
}

TEST(GuardSupervisor, ConfigRejectsASkipTemplateWithoutTheRange) {
  SupervisorConfig c = valid_config();
  c.skip_template = "--skip-data";
  EXPECT_THROW(check_supervisor_config(c), Error);
  c.skip_template = "--skip-data-after {step}";
  EXPECT_THROW(check_supervisor_config(c), Error);
}

TEST(GuardSupervisor, ConfigRejectsBadOptions) {
  SupervisorConfig c = valid_config();
  c.checkpoint_pattern = "checkpoint";
  EXPECT_THROW(check_supervisor_config(c), Error);
  c = valid_config();
  c.resume_template = "--resume_from_checkpoint";  // resumes from nowhere
  EXPECT_THROW(check_supervisor_config(c), Error);
}

}  // namespace
}  // namespace tokalign::guard
