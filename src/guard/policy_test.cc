// The rollback policy, as policy.h describes it: replay first from a checkpoint keep_distance
// before the onset, skip data when the anomaly comes back at the same place (further each
// time), reject unusable checkpoints, resume crashes from the newest one, give up after too
// many rollbacks without progress or in all.
#include "guard/policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tokalign::guard {
namespace {

Checkpoint ckpt(int64_t step) {
  Checkpoint c;
  c.path = "/run/checkpoint-" + std::to_string(step);
  c.step = step;
  c.hf = true;
  return c;
}

std::vector<Checkpoint> ckpts(std::initializer_list<int64_t> steps) {
  std::vector<Checkpoint> out;
  for (int64_t s : steps) out.push_back(ckpt(s));
  return out;
}

const Decision::Rejected* rejected(const Decision& d, int64_t step) {
  for (const Decision::Rejected& r : d.rejected)
    if (r.path == ckpt(step).path) return &r;
  return nullptr;
}

TEST(GuardPolicy, ActionNames) {
  EXPECT_STREQ(action_name(Action::Replay), "replay");
  EXPECT_STREQ(action_name(Action::Skip), "skip");
  EXPECT_STREQ(action_name(Action::GiveUp), "give_up");
}

TEST(GuardPolicy, FirstAnomalyReplaysFromKeepDistanceBeforeTheOnset) {
  PolicyConfig c;  // keep_distance 20
  RollbackPolicy p(c);
  // 400 is within keep_distance of the onset 415 (415 - 20 = 395); 500 is after it.
  Decision d = p.decide(415, ckpts({100, 200, 300, 400, 500}), false);
  EXPECT_EQ(d.action, Action::Replay);
  EXPECT_EQ(d.checkpoint.step, 300);
  EXPECT_EQ(d.checkpoint.path, ckpt(300).path);
  EXPECT_EQ(d.attempt, 1);
  EXPECT_EQ(d.repeat, 0);
  EXPECT_EQ(d.lr_factor, 1.0);
  EXPECT_FALSE(d.reason.empty());
  ASSERT_NE(rejected(d, 400), nullptr);
  EXPECT_TRUE(rejected(d, 400)->too_late);
  ASSERT_NE(rejected(d, 500), nullptr);
  EXPECT_TRUE(rejected(d, 500)->too_late);
  EXPECT_EQ(rejected(d, 200), nullptr);  // older than the chosen one: not considered
  EXPECT_EQ(p.rollbacks(), 1);
}

TEST(GuardPolicy, CheckpointExactlyKeepDistanceBeforeQualifies) {
  RollbackPolicy p;
  Decision d = p.decide(420, ckpts({300, 400}), false);
  EXPECT_EQ(d.action, Action::Replay);
  EXPECT_EQ(d.checkpoint.step, 400);  // 420 - 20 = 400: "at least keep_distance steps before"
}

TEST(GuardPolicy, RecurrenceSkipsFurtherEachTime) {
  PolicyConfig c;
  c.skip_margin = 50;
  c.lr_factor = 0.5;
  RollbackPolicy p(c);
  const auto cs = ckpts({100, 200, 300});  // later ones of the abandoned run were set aside

  Decision first = p.decide(415, cs, false);
  ASSERT_EQ(first.action, Action::Replay);
  ASSERT_EQ(first.checkpoint.step, 300);

  // The replay fails again at nearly the same step: skip from the checkpoint to onset + margin.
  Decision second = p.decide(418, cs, false);
  EXPECT_EQ(second.action, Action::Skip);
  EXPECT_EQ(second.checkpoint.step, 300);
  EXPECT_EQ(second.skip_from, 301);
  EXPECT_EQ(second.skip_to, 418 + 50);
  EXPECT_DOUBLE_EQ(second.lr_factor, 0.5);
  EXPECT_EQ(second.attempt, 2);
  EXPECT_EQ(second.repeat, 1);

  // A bad stretch longer than the skip shows up just after it: the next skip reaches further.
  Decision third = p.decide(second.skip_to + 2, cs, false);
  EXPECT_EQ(third.action, Action::Skip);
  EXPECT_EQ(third.checkpoint.step, 300);
  EXPECT_EQ(third.skip_from, 301);
  EXPECT_GE(third.skip_to, second.skip_to + 50);
  EXPECT_EQ(third.skip_to, second.skip_to + 2 + 50);
  EXPECT_DOUBLE_EQ(third.lr_factor, 0.25);
  EXPECT_EQ(third.attempt, 3);
  EXPECT_EQ(third.repeat, 2);
  EXPECT_EQ(p.rollbacks(), 3);
}

TEST(GuardPolicy, RecurrenceEarlierThanTheFirstOnsetStillSkipsPastIt) {
  PolicyConfig c;
  c.skip_margin = 50;
  RollbackPolicy p(c);
  const auto cs = ckpts({100, 200, 300});
  ASSERT_EQ(p.decide(415, cs, false).action, Action::Replay);
  Decision d = p.decide(405, cs, false);  // the same place, a little earlier this time
  EXPECT_EQ(d.action, Action::Skip);
  EXPECT_EQ(d.skip_from, 301);
  EXPECT_GE(d.skip_to, 405 + 50);
}

TEST(GuardPolicy, AnomalyElsewhereIsAFirstOccurrence) {
  PolicyConfig c;
  c.max_no_progress = 10;
  RollbackPolicy p(c);
  const auto cs = ckpts({100, 200, 300, 1000, 1500});
  ASSERT_EQ(p.decide(415, cs, false).action, Action::Replay);
  Decision d = p.decide(1800, cs, false);  // far past 415 + skip_margin
  EXPECT_EQ(d.action, Action::Replay);
  EXPECT_EQ(d.checkpoint.step, 1500);
  EXPECT_EQ(d.repeat, 0);
  EXPECT_EQ(d.lr_factor, 1.0);
}

TEST(GuardPolicy, RejectsCheckpointsWithProblemsOrBadHistory) {
  RollbackPolicy p;
  std::vector<Checkpoint> cs = ckpts({100, 200, 300});
  cs[2].problem = "trainer_state.json is not valid JSON (truncated?)";
  cs[1].bad_history_step = 150;
  cs[1].bad_history = "grad_norm is not finite";
  Decision d = p.decide(400, cs, false);
  EXPECT_EQ(d.action, Action::Replay);
  EXPECT_EQ(d.checkpoint.step, 100);
  const Decision::Rejected* r300 = rejected(d, 300);
  ASSERT_NE(r300, nullptr);
  EXPECT_NE(r300->reason.find("truncated"), std::string::npos) << r300->reason;
  EXPECT_FALSE(r300->too_late);
  const Decision::Rejected* r200 = rejected(d, 200);
  ASSERT_NE(r200, nullptr);
  EXPECT_NE(r200->reason.find("150"), std::string::npos) << r200->reason;
  EXPECT_FALSE(r200->too_late);
}

TEST(GuardPolicy, CrashResumesFromTheNewestUsableCheckpoint) {
  RollbackPolicy p;
  std::vector<Checkpoint> cs = ckpts({100, 200, 300});
  // Crashed after step 300 (onset = last step + 1): no keep_distance for a crash.
  Decision d = p.decide(301, cs, true);
  EXPECT_EQ(d.action, Action::Replay);
  EXPECT_EQ(d.checkpoint.step, 300);
  EXPECT_TRUE(d.rejected.empty());
  // A second crash at the same place replays again (a crash is not a data problem).
  Decision again = p.decide(305, cs, true);
  EXPECT_EQ(again.action, Action::Replay);
  EXPECT_EQ(again.checkpoint.step, 300);
  // ... but the newest checkpoint must still be usable.
  cs[2].problem = "file model.safetensors is empty (an interrupted save?)";
  Decision third = p.decide(301, cs, true);
  EXPECT_EQ(third.action, Action::Replay);
  EXPECT_EQ(third.checkpoint.step, 200);
  ASSERT_NE(rejected(third, 300), nullptr);
}

TEST(GuardPolicy, ProgressPastTheIncidentResetsTheNoProgressCount) {
  PolicyConfig c;
  c.max_no_progress = 2;
  c.progress_steps = 100;
  const auto cs = ckpts({100, 200, 300, 1000});

  // Without progress: the third rollback is refused.
  RollbackPolicy stuck(c);
  ASSERT_NE(stuck.decide(415, cs, false).action, Action::GiveUp);
  stuck.reached(430);  // a little past the onset, not progress_steps past it
  ASSERT_NE(stuck.decide(418, cs, false).action, Action::GiveUp);
  stuck.reached(470);
  Decision refused = stuck.decide(1200, cs, false);
  EXPECT_EQ(refused.action, Action::GiveUp);
  EXPECT_FALSE(refused.reason.empty());

  // With the run getting well past the incident in between, it carries on.
  RollbackPolicy moving(c);
  ASSERT_NE(moving.decide(415, cs, false).action, Action::GiveUp);
  ASSERT_NE(moving.decide(418, cs, false).action, Action::GiveUp);
  moving.reached(418 + 100);
  moving.reached(1100);
  Decision d = moving.decide(1200, cs, false);
  EXPECT_EQ(d.action, Action::Replay);
  EXPECT_EQ(d.checkpoint.step, 1000);
  EXPECT_EQ(d.attempt, 3);
}

TEST(GuardPolicy, GivesUpAfterMaxNoProgress) {
  PolicyConfig c;
  c.max_no_progress = 3;
  c.lr_factor = 1.0;
  RollbackPolicy p(c);
  const auto cs = ckpts({100, 200, 300});
  EXPECT_EQ(p.decide(415, cs, false).action, Action::Replay);
  EXPECT_EQ(p.decide(416, cs, false).action, Action::Skip);
  EXPECT_EQ(p.decide(470, cs, false).action, Action::Skip);
  Decision d = p.decide(530, cs, false);
  EXPECT_EQ(d.action, Action::GiveUp);
  EXPECT_FALSE(d.reason.empty());
  EXPECT_EQ(p.rollbacks(), 3);
}

TEST(GuardPolicy, GivesUpAfterMaxRollbacks) {
  PolicyConfig c;
  c.max_rollbacks = 3;
  c.max_no_progress = 100;
  RollbackPolicy p(c);
  std::vector<Checkpoint> cs;
  for (int64_t s = 100; s <= 10000; s += 100) cs.push_back(ckpt(s));
  int64_t onset = 1000;
  for (int i = 0; i < 3; ++i) {
    Decision d = p.decide(onset, cs, false);
    EXPECT_EQ(d.action, Action::Replay) << i;
    p.reached(onset + 1000);
    onset += 2000;
  }
  Decision d = p.decide(onset, cs, false);
  EXPECT_EQ(d.action, Action::GiveUp);
  EXPECT_FALSE(d.reason.empty());
  // Crashes count towards the same cap.
  EXPECT_EQ(p.decide(onset + 5, cs, true).action, Action::GiveUp);
}

TEST(GuardPolicy, NoCheckpoint) {
  PolicyConfig strict;
  strict.from_scratch_ok = false;
  RollbackPolicy p(strict);
  Decision none = p.decide(50, {}, false);
  EXPECT_EQ(none.action, Action::GiveUp);
  EXPECT_FALSE(none.reason.empty());
  // Only checkpoints too close to the onset: none qualifies either.
  Decision late = p.decide(415, ckpts({400, 500}), false);
  EXPECT_EQ(late.action, Action::GiveUp);
  ASSERT_EQ(late.rejected.size(), 2u);
  EXPECT_TRUE(late.rejected[0].too_late);
  EXPECT_TRUE(late.rejected[1].too_late);

  RollbackPolicy lenient;  // from_scratch_ok by default
  Decision scratch = lenient.decide(50, {}, false);
  EXPECT_EQ(scratch.action, Action::Replay);
  EXPECT_TRUE(scratch.checkpoint.path.empty());
  EXPECT_EQ(scratch.checkpoint.step, 0);
}

TEST(GuardPolicy, CannotSkipGivesUpOnRecurrence) {
  PolicyConfig c;
  c.can_skip = false;
  RollbackPolicy p(c);
  const auto cs = ckpts({100, 200, 300});
  EXPECT_EQ(p.decide(415, cs, false).action, Action::Replay);
  Decision d = p.decide(417, cs, false);
  EXPECT_EQ(d.action, Action::GiveUp);
  EXPECT_FALSE(d.reason.empty());
}

}  // namespace
}  // namespace tokalign::guard
