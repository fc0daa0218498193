// The guard's detectors, against the rules documented in detector.h: hard rules act at once
// (even in warm-up), statistical rules need a robust z-score, a ratio and a rise for
// `patience` records, a clean noisy run raises nothing, restarts forget later records and
// rest the statistics for a cool-down.
#include "guard/detector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <vector>

#include "util/error.h"

namespace tokalign::guard {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Metrics rec(std::optional<double> loss, std::optional<double> grad = std::nullopt) {
  Metrics m;
  m.loss = loss;
  m.grad_norm = grad;
  return m;
}

// The acting finding of one record (a pointer into fs: keep fs alive while using it).
const Finding* acting(const std::vector<Finding>& fs) {
  const Finding* out = nullptr;
  for (const Finding& f : fs)
    if (f.act) {
      EXPECT_EQ(out, nullptr) << "more than one acting finding on one record";
      out = &f;
    }
  return out;
}

const Finding* with_rule(const std::vector<Finding>& fs, Rule r) {
  for (const Finding& f : fs)
    if (f.rule == r) return &f;
  return nullptr;
}

// A decaying training loss with lognormal noise (sigma 0.05) and a grad norm around 1 with the
// same noise: what a healthy run logs.
class CleanRun {
 public:
  explicit CleanRun(unsigned seed = 20261128) : rng_(seed), noise_(0.0, 0.05) {}
  double base_loss(int64_t i) const { return 2.0 + 3.0 * std::exp(-static_cast<double>(i) / 300.0); }
  Metrics next(int64_t i) {
    double loss = base_loss(i) * std::exp(noise_(rng_));
    double grad = 1.0 * std::exp(noise_(rng_));
    return rec(loss, grad);
  }
  double grad_noise() { return std::exp(noise_(rng_)); }
  double loss_noise() { return std::exp(noise_(rng_)); }

 private:
  std::mt19937 rng_;
  std::normal_distribution<double> noise_;
};

// One record of a loss spike: `factor` times the clean run's loss at step i.
std::vector<Finding> spike_record(Detector& d, CleanRun& run, int64_t i, double factor) {
  Metrics m = run.next(i);
  m.loss = run.base_loss(i) * factor;
  return d.observe(m, i);
}

// A 3x loss spike over the default patience (3 records) from step `from` must be ignored
// (`judged` false: a cool-down) or act as loss_spike with onset `from`.
void expect_spike(Detector& d, CleanRun& run, int64_t from, bool judged) {
  std::vector<Finding> fs;
  for (int64_t i = from; i < from + 3; ++i) {
    fs = spike_record(d, run, i, 3.0);
    if (!judged) {
      EXPECT_TRUE(fs.empty()) << "step " << i << " is in the cool-down";
    }
  }
  if (!judged) return;
  const Finding* f = acting(fs);
  ASSERT_NE(f, nullptr) << "a spike from step " << from << " was not acted on";
  EXPECT_EQ(f->rule, Rule::LossSpike);
  EXPECT_EQ(f->onset_step, from);
}

// Feeds records 1..n of a clean run (step = i * stride) and expects nothing acted on.
void feed_clean(Detector& d, CleanRun& run, int64_t first, int64_t last, int64_t stride = 1) {
  for (int64_t i = first; i <= last; ++i) {
    auto fs = d.observe(run.next(i), i * stride);
    ASSERT_EQ(acting(fs), nullptr) << "clean record " << i << " acted on: " << fs[0].detail;
  }
}

TEST(GuardDetector, RuleNames) {
  EXPECT_STREQ(rule_name(Rule::NonFiniteLoss), "non_finite_loss");
  EXPECT_STREQ(rule_name(Rule::NonFiniteGradNorm), "non_finite_grad_norm");
  EXPECT_STREQ(rule_name(Rule::NonFiniteEvalLoss), "non_finite_eval_loss");
  EXPECT_STREQ(rule_name(Rule::LossMissing), "loss_missing");
  EXPECT_STREQ(rule_name(Rule::AllMasked), "all_masked");
  EXPECT_STREQ(rule_name(Rule::ZeroLoss), "zero_loss");
  EXPECT_STREQ(rule_name(Rule::LossSpike), "loss_spike");
  EXPECT_STREQ(rule_name(Rule::GradSpike), "grad_spike");
  EXPECT_STREQ(rule_name(Rule::CoSpike), "co_spike");
  EXPECT_STREQ(rule_name(Rule::Divergence), "divergence");
}

TEST(GuardDetector, WindowTooSmallThrows) { EXPECT_THROW(Detector(DetectorConfig{.window = 2}), Error); }

TEST(GuardDetector, CleanNoisyRunRaisesNothing) {
  Detector d;
  CleanRun run;
  size_t findings = 0;
  for (int64_t i = 1; i <= 2000; ++i) {
    auto fs = d.observe(run.next(i), i);
    ASSERT_EQ(acting(fs), nullptr) << "step " << i << ": " << fs[0].detail;
    findings += fs.size();
  }
  // A 6-sigma z-score and a 1.5x ratio (8 sigma of this noise) are never reached by chance.
  EXPECT_EQ(findings, 0u);
  EXPECT_EQ(d.accepted_points(), 2000u);
}

// ---- hard rules -----------------------------------------------------------------------

TEST(GuardDetector, NanLossActsOnTheFirstRecord) {
  Detector d;
  auto fs = d.observe(rec(kNaN, 1.0), 1);
  const Finding* f = acting(fs);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->rule, Rule::NonFiniteLoss);
  EXPECT_EQ(f->metric, "loss");
  EXPECT_EQ(f->step, 1);
  EXPECT_EQ(f->onset_step, 1);
  EXPECT_FALSE(f->detail.empty());
}

TEST(GuardDetector, NonFiniteActsDuringWarmup) {
  DetectorConfig c;
  c.warmup_steps = 1000;
  Detector d(c);
  CleanRun run;
  feed_clean(d, run, 1, 50);
  auto inf_loss = d.observe(rec(kInf, 1.0), 51);
  ASSERT_NE(acting(inf_loss), nullptr);
  EXPECT_EQ(acting(inf_loss)->rule, Rule::NonFiniteLoss);
  auto nan_grad = d.observe(rec(2.0, kNaN), 52);
  ASSERT_NE(acting(nan_grad), nullptr);
  EXPECT_EQ(acting(nan_grad)->rule, Rule::NonFiniteGradNorm);
  EXPECT_EQ(acting(nan_grad)->metric, "grad_norm");
  Metrics eval;
  eval.eval_loss = kNaN;
  auto nan_eval = d.observe(eval, 52);
  ASSERT_NE(acting(nan_eval), nullptr);
  EXPECT_EQ(acting(nan_eval)->rule, Rule::NonFiniteEvalLoss);
  EXPECT_EQ(acting(nan_eval)->metric, "eval_loss");
  // A statistical anomaly in warm-up is not judged.
  auto spike = d.observe(rec(50.0, 1.0), 53);
  EXPECT_TRUE(spike.empty());
}

TEST(GuardDetector, LossMissingActs) {
  Detector d;
  Metrics m;
  m.loss_missing = true;
  m.grad_norm = 1.0;
  auto fs = d.observe(m, 10);
  const Finding* f = acting(fs);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->rule, Rule::LossMissing);
  EXPECT_EQ(f->step, 10);
}

TEST(GuardDetector, MegatronNanCounterActs) {
  Detector d;
  Metrics m = rec(0.7, 0.8);
  m.nan_iterations = 2;
  auto fs = d.observe(m, 100);
  const Finding* f = acting(fs);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->rule, Rule::LossMissing);
}

// Megatron's "number of nan iterations" counts the NaN iterations of one logging interval
// (training_log sets total_loss_dict[nan_iters_key] = 0 after printing it), and detector.h
// says a record whose nan counter is above zero is loss_missing. A later interval with NaN
// iterations must be flagged too, whatever count an earlier interval had.
TEST(GuardDetector, EveryMegatronNanCounterAboveZeroActs) {
  DetectorConfig c;
  c.cooldown_steps = 0;
  Detector d(c);
  auto nan_record = [](int64_t n) {
    Metrics m = rec(0.7, 0.8);
    m.nan_iterations = n;
    return m;
  };
  ASSERT_NE(acting(d.observe(nan_record(2), 100)), nullptr);
  EXPECT_EQ(acting(d.observe(nan_record(0), 110)), nullptr);  // a clean interval
  const std::vector<Finding> at120 = d.observe(nan_record(2), 120);  // two more NaN iterations
  const Finding* again = acting(at120);
  ASSERT_NE(again, nullptr) << "a second logging interval with 2 NaN iterations was not flagged";
  EXPECT_EQ(again->rule, Rule::LossMissing);
  const std::vector<Finding> at130 = d.observe(nan_record(1), 130);  // one more
  const Finding* fewer = acting(at130);
  ASSERT_NE(fewer, nullptr) << "a logging interval with 1 NaN iteration after one with 2 was not flagged";
  EXPECT_EQ(fewer->rule, Rule::LossMissing);
}

TEST(GuardDetector, ZeroLossWithoutUsableGradIsAllMasked) {
  for (std::optional<double> grad : {std::optional<double>(kNaN), std::optional<double>(kInf),
                                     std::optional<double>(0.0), std::optional<double>()}) {
    Detector d;
    auto fs = d.observe(rec(0.0, grad), 5);
    const Finding* f = acting(fs);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->rule, Rule::AllMasked) << (grad ? *grad : -1.0);
  }
}

TEST(GuardDetector, NanLossWithZeroGradIsAllMasked) {
  Detector d;
  auto fs = d.observe(rec(kNaN, 0.0), 5);
  const Finding* f = acting(fs);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->rule, Rule::AllMasked);
}

TEST(GuardDetector, ZeroLossWithFiniteGradActsOnTheSecondInARow) {
  Detector d;
  CleanRun run;
  feed_clean(d, run, 1, 30);
  auto first = d.observe(rec(0.0, 0.5), 31);
  const Finding* w = with_rule(first, Rule::ZeroLoss);
  ASSERT_NE(w, nullptr);
  EXPECT_FALSE(w->act);
  EXPECT_EQ(acting(first), nullptr);
  auto second = d.observe(rec(0.0, 0.4), 32);
  const Finding* a = acting(second);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->rule, Rule::ZeroLoss);
}

TEST(GuardDetector, ZeroLossRepeatsMustBeConsecutive) {
  Detector d;
  CleanRun run;
  feed_clean(d, run, 1, 30);
  for (int64_t s = 31; s < 41; s += 2) {
    auto zero = d.observe(rec(0.0, 0.5), s);
    ASSERT_NE(with_rule(zero, Rule::ZeroLoss), nullptr);
    EXPECT_EQ(acting(zero), nullptr) << "step " << s;
    EXPECT_EQ(acting(d.observe(run.next(s + 1), s + 1)), nullptr);
  }
}

// ---- statistical rules ----------------------------------------------------------------

TEST(GuardDetector, SingleOutlierIsAtMostAWarning) {
  Detector d;
  CleanRun run;
  feed_clean(d, run, 1, 300);
  Metrics outlier = run.next(301);
  outlier.loss = run.base_loss(301) * 1.8;
  auto fs = d.observe(outlier, 301);
  EXPECT_EQ(acting(fs), nullptr);
  // z = log(1.8) / 0.05 ~ 12 >= 6, ratio 1.8 >= 1.5, rise > 0.1: a loss_spike warning, 1 of 3.
  const Finding* w = with_rule(fs, Rule::LossSpike);
  ASSERT_NE(w, nullptr);
  EXPECT_FALSE(w->act);
  EXPECT_EQ(w->onset_step, 301);
  EXPECT_GE(w->stats.z, 6.0);
  feed_clean(d, run, 302, 500);
}

TEST(GuardDetector, SustainedSpikeActsWithOnsetAtTheFirstSpikedRecord) {
  Detector d;
  CleanRun run;
  const int64_t stride = 10;  // logging every 10 steps
  feed_clean(d, run, 1, 300, stride);
  std::vector<std::vector<Finding>> spiked;
  for (int64_t i = 301; i <= 303; ++i) {
    Metrics m = run.next(i);
    m.loss = run.base_loss(i) * 3.0;
    spiked.push_back(d.observe(m, i * stride));
  }
  for (int k = 0; k < 2; ++k) {
    EXPECT_EQ(acting(spiked[k]), nullptr) << "record " << k;
    ASSERT_NE(with_rule(spiked[k], Rule::LossSpike), nullptr) << "record " << k;
  }
  const Finding* f = acting(spiked[2]);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->rule, Rule::LossSpike);
  EXPECT_EQ(f->metric, "loss");
  EXPECT_EQ(f->step, 3030);
  EXPECT_EQ(f->onset_step, 3010);
  EXPECT_GE(f->stats.z, 6.0);
  EXPECT_GE(f->value, 1.5 * f->stats.median);
}

TEST(GuardDetector, SustainedGradSpikeActs) {
  Detector d;
  CleanRun run;
  feed_clean(d, run, 1, 300);
  std::vector<Finding> last;
  for (int64_t i = 301; i <= 303; ++i) {
    Metrics m = run.next(i);
    m.grad_norm = 5.0 * run.grad_noise();
    last = d.observe(m, i);
    if (i < 303) {
      EXPECT_EQ(acting(last), nullptr);
    }
  }
  const Finding* f = acting(last);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->rule, Rule::GradSpike);
  EXPECT_EQ(f->metric, "grad_norm");
  EXPECT_EQ(f->onset_step, 301);
}

TEST(GuardDetector, CoSpikeActsAtOnce) {
  Detector d;
  CleanRun run;
  feed_clean(d, run, 1, 300);
  Metrics m = run.next(301);
  m.loss = run.base_loss(301) * 3.0;
  m.grad_norm = 4.0;
  auto fs = d.observe(m, 301);
  const Finding* f = acting(fs);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->rule, Rule::CoSpike);
  EXPECT_EQ(f->step, 301);
  EXPECT_EQ(f->onset_step, 301);
}

TEST(GuardDetector, SlowCreepIsDivergenceFromTheEmasBest) {
  DetectorConfig c;
  Detector d(c);
  // A noise-free decay, then a creep of +0.4% per record: always under 1.5x the window median
  // (no spike), but the EMA ends up 25% above its best.
  std::vector<double> losses;
  for (int i = 0; i < 400; ++i) losses.push_back(2.0 + std::exp(-i / 100.0));
  for (int k = 1; k <= 300; ++k) losses.push_back(losses[399] * std::pow(1.004, k));

  // The EMA as ema_span defines it (alpha = 2 / (span + 1)), and where it was lowest.
  const double alpha = 2.0 / (c.ema_span + 1.0);
  std::vector<double> ema(losses.size());
  size_t best = 0;
  for (size_t i = 0; i < losses.size(); ++i) {
    ema[i] = i == 0 ? losses[0] : alpha * losses[i] + (1 - alpha) * ema[i - 1];
    if (ema[i] < ema[best]) best = i;
  }
  ASSERT_GE(best, 390u);  // around the turn, long after the warm-up

  const Finding* found = nullptr;
  std::vector<Finding> fs;
  size_t at = 0;
  for (size_t i = 0; i < losses.size(); ++i) {
    fs = d.observe(rec(losses[i], 1.0), static_cast<int64_t>(i + 1));
    found = acting(fs);
    if (found) {
      at = i;
      break;
    }
  }
  ASSERT_NE(found, nullptr) << "the creep was never acted on";
  EXPECT_EQ(found->rule, Rule::Divergence);
  EXPECT_EQ(found->onset_step, static_cast<int64_t>(best + 1));
  // It was confirmed divergence_patience records after the EMA first crossed the threshold.
  size_t crossed = 0;
  for (size_t i = best; i < losses.size(); ++i)
    if (ema[i] > ema[best] * (1 + c.divergence_factor) && ema[i] - ema[best] >= c.divergence_min_rise) {
      crossed = i;
      break;
    }
  ASSERT_GT(crossed, 0u);
  EXPECT_EQ(at, crossed + c.divergence_patience - 1);
  EXPECT_GT(found->stats.ema, found->stats.best_ema * (1 + c.divergence_factor));
  EXPECT_NEAR(found->stats.best_ema, ema[best], 1e-9);
}

TEST(GuardDetector, SpikePlateauStaysFlagged) {
  // Anomalous records never enter the window: a plateau twice as long as the window is still
  // judged against the healthy statistics before it.
  Detector d;
  CleanRun run;
  feed_clean(d, run, 1, 300);
  int acts = 0;
  for (int64_t i = 301; i <= 500; ++i) {
    Metrics m = run.next(i);
    m.loss = run.base_loss(i) * 3.0 * run.loss_noise();
    auto fs = d.observe(m, i);
    const Finding* spike = with_rule(fs, Rule::LossSpike);
    ASSERT_NE(spike, nullptr) << "plateau record " << i << " not flagged";
    if (const Finding* a = acting(fs)) {
      EXPECT_EQ(a->rule, Rule::LossSpike);
      ++acts;
    }
  }
  EXPECT_GT(acts, 0);
  EXPECT_EQ(d.accepted_points(), 300u);  // none of the plateau entered the window
}

// ---- restarts -------------------------------------------------------------------------

TEST(GuardDetector, RestartForgetsLaterRecords) {
  Detector d;
  CleanRun run;
  feed_clean(d, run, 1, 300);
  EXPECT_EQ(d.accepted_points(), 300u);
  d.restart_from(200);
  EXPECT_EQ(d.accepted_points(), 200u);
}

TEST(GuardDetector, CooldownRestsStatisticalRulesButNotHardOnes) {
  DetectorConfig c;
  c.cooldown_steps = 10;
  Detector d(c);
  CleanRun run;
  feed_clean(d, run, 1, 300);
  d.restart_from(200);
  // Steps 201..210 are the cool-down: a spike of patience records is not judged ...
  expect_spike(d, run, 201, false);
  // ... a NaN is.
  auto nan = d.observe(rec(kNaN, 1.0), 204);
  ASSERT_NE(acting(nan), nullptr);
  EXPECT_EQ(acting(nan)->rule, Rule::NonFiniteLoss);
  feed_clean(d, run, 205, 210);
  // After the cool-down the same spike is judged again.
  expect_spike(d, run, 211, true);
}

TEST(GuardDetector, CooldownCountsFromTheResumeStepAfterASkip) {
  DetectorConfig c;
  c.cooldown_steps = 10;
  Detector d(c);
  CleanRun run;
  feed_clean(d, run, 1, 300);
  // Resumed from the checkpoint at 200 with steps 201..250 skipped: 251 is the first trained,
  // and the cool-down is 251..260.
  d.restart_from(200, 250);
  EXPECT_EQ(d.accepted_points(), 200u);
  expect_spike(d, run, 255, false);
  feed_clean(d, run, 258, 260);
  expect_spike(d, run, 261, true);
}

TEST(GuardDetector, RestartResetsPendingSpikes) {
  DetectorConfig c;
  c.cooldown_steps = 0;
  Detector d(c);
  CleanRun run;
  feed_clean(d, run, 1, 300);
  for (int64_t i = 301; i <= 302; ++i)  // two of the three records a spike needs
    EXPECT_EQ(acting(spike_record(d, run, i, 3.0)), nullptr);
  d.restart_from(300);
  // The replayed run: one spiked record is the first of a new run, not the third.
  auto fs = spike_record(d, run, 301, 3.0);
  EXPECT_EQ(acting(fs), nullptr);
  const Finding* w = with_rule(fs, Rule::LossSpike);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->onset_step, 301);
}

}  // namespace
}  // namespace tokalign::guard
