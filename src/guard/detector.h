// The guard's detectors: which training log records are anomalies, and which of those
// warrant a rollback. Usable in-process by a trainer: feed it every logged record in order
// and call restart_from() when training resumes from a checkpoint.
//
// Hard rules (always on, from the first step):
//   non_finite_loss / non_finite_grad_norm / non_finite_eval_loss   NaN or Inf
//   loss_missing     a Megatron iteration line without "lm loss", or its nan counter > 0
//                    (Megatron resets that counter at every log line)
//   all_masked       loss exactly 0 with grad norm absent, 0 or non-finite, or loss NaN with
//                    grad norm exactly 0: every label was ignored (HF 4.x with some loss
//                    functions logs such a batch as 0.0 and carries on; transformers 5.17
//                    logs 'loss': 'nan', 'grad_norm': '0', measured on the device machine)
//   zero_loss        loss exactly 0 with a finite grad norm: a warning, acted on after
//                    `zero_loss_repeats` consecutive records (a real loss < 5e-5 also
//                    prints as 0.0 after HF's rounding)
// Statistical rules (not during warm-up, nor in the cool-down after a restart):
//   loss_spike       robust z-score of log(loss) against the window's median and MAD
//                    (z >= spike_z) AND loss/median >= spike_ratio AND loss - median >=
//                    spike_min_rise nats, for spike_patience consecutive records
//   grad_spike       the same on log(grad_norm), with grad_ratio
//   co_spike         loss and grad norm z both >= cospike_z on one record: at once
//   divergence       the loss EMA stays above its best by divergence_factor (and
//                    divergence_min_rise nats) for divergence_patience records
// Anomalous and non-finite records never enter the window (the statistics are frozen during
// an incident), so one spike cannot mask the next.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "guard/metrics.h"

namespace tokalign::guard {

struct DetectorConfig {
  size_t window = 100;
  size_t min_points = 20;
  int64_t warmup_steps = 0;
  int64_t cooldown_steps = 10;
  double spike_z = 6.0;
  double spike_ratio = 1.5;
  double spike_min_rise = 0.1;
  int spike_patience = 3;
  double grad_z = 6.0;
  double grad_ratio = 3.0;
  int grad_patience = 3;
  double cospike_z = 5.0;
  int ema_span = 20;
  double divergence_factor = 0.25;
  double divergence_min_rise = 0.1;
  int divergence_patience = 20;
  int zero_loss_repeats = 2;
};

enum class Rule {
  NonFiniteLoss,
  NonFiniteGradNorm,
  NonFiniteEvalLoss,
  LossMissing,
  AllMasked,
  ZeroLoss,
  LossSpike,
  GradSpike,
  CoSpike,
  Divergence,
};

const char* rule_name(Rule r);

// The window's state when a finding was made (log-space median and MAD of the metric).
struct WindowStats {
  size_t n = 0;
  double median = 0;  // of the metric itself (exp of the log-space median)
  double mad = 0;     // of log(metric)
  double z = 0;
  double ema = 0;       // loss EMA (divergence)
  double best_ema = 0;  // its lowest value so far
};

struct Finding {
  Rule rule;
  std::string metric;  // "loss", "grad_norm", "eval_loss"
  double value = 0;
  int64_t step = 0;        // the record that confirmed it
  int64_t onset_step = 0;  // where the anomaly began (first anomalous record, or the EMA's best)
  bool act = false;        // true: roll back; false: a warning
  WindowStats stats;
  std::string detail;      // one readable sentence
};

class Detector {
 public:
  explicit Detector(DetectorConfig config = {});

  // One logged record at `step` (steps increase between restarts). Returns what it found:
  // warnings and at most one finding with act set.
  std::vector<Finding> observe(const Metrics& m, int64_t step);

  // Training resumes from the checkpoint at `step`: records after it are forgotten and the
  // statistical rules rest for cooldown_steps after `resume_step` (the first step trained
  // is resume_step + 1; it is later than `step` when data was skipped).
  void restart_from(int64_t step, int64_t resume_step = -1);

  const DetectorConfig& config() const { return config_; }
  // Records that entered the loss window so far (warm-up progress).
  size_t accepted_points() const;

 private:
  struct Point {
    int64_t step;
    double log_loss;  // NaN when the record had no accepted loss
    double log_grad;  // NaN when it had no accepted grad norm
    double ema;       // loss EMA after this point (NaN before the first loss)
    double best_ema;
    int64_t best_step;
  };
  struct Pending {
    int count = 0;
    int64_t onset = 0;
    void reset() { count = 0; }
  };
  WindowStats window_stats(bool grad, double x) const;
  bool judging(int64_t step) const;

  DetectorConfig config_;
  std::vector<Point> points_;
  int64_t cooldown_until_ = -1;
  size_t accepted_ = 0;  // points_ with a loss in the window
  int zero_repeats_ = 0;
  Pending loss_pending_, grad_pending_, divergence_pending_;
};

}  // namespace tokalign::guard
