#include "guard/detector.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "util/error.h"

namespace tokalign::guard {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// MAD to standard deviation for normally distributed data.
constexpr double kMadScale = 1.4826;

double median_of(std::vector<double>& v) {
  size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  double hi = v[mid];
  if (v.size() % 2) return hi;
  double lo = *std::max_element(v.begin(), v.begin() + mid);
  return (lo + hi) / 2;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace

const char* rule_name(Rule r) {
  switch (r) {
    case Rule::NonFiniteLoss: return "non_finite_loss";
    case Rule::NonFiniteGradNorm: return "non_finite_grad_norm";
    case Rule::NonFiniteEvalLoss: return "non_finite_eval_loss";
    case Rule::LossMissing: return "loss_missing";
    case Rule::AllMasked: return "all_masked";
    case Rule::ZeroLoss: return "zero_loss";
    case Rule::LossSpike: return "loss_spike";
    case Rule::GradSpike: return "grad_spike";
    case Rule::CoSpike: return "co_spike";
    case Rule::Divergence: return "divergence";
  }
  return "?";
}

Detector::Detector(DetectorConfig config) : config_(config) {
  if (config_.window < 3) throw Error("guard: the window needs at least 3 records");
  if (config_.min_points < 3) config_.min_points = 3;
  if (config_.min_points > config_.window) config_.min_points = config_.window;
  if (config_.spike_patience < 1) config_.spike_patience = 1;
  if (config_.grad_patience < 1) config_.grad_patience = 1;
  if (config_.divergence_patience < 1) config_.divergence_patience = 1;
  if (config_.zero_loss_repeats < 1) config_.zero_loss_repeats = 1;
  if (config_.ema_span < 1) config_.ema_span = 1;
}

size_t Detector::accepted_points() const { return accepted_; }

bool Detector::judging(int64_t step) const {
  return step >= config_.warmup_steps && step > cooldown_until_ && accepted_points() >= config_.min_points;
}

WindowStats Detector::window_stats(bool grad, double x) const {
  std::vector<double> values;
  values.reserve(config_.window);
  for (auto it = points_.rbegin(); it != points_.rend() && values.size() < config_.window; ++it) {
    double v = grad ? it->log_grad : it->log_loss;
    if (!std::isnan(v)) values.push_back(v);
  }
  WindowStats s;
  s.n = values.size();
  if (values.empty()) return s;
  double med = median_of(values);
  for (double& v : values) v = std::fabs(v - med);
  double mad = median_of(values);
  s.median = std::exp(med);
  s.mad = mad;
  double sigma = kMadScale * mad;
  s.z = sigma > 0 ? (x - med) / sigma : (x > med ? std::numeric_limits<double>::infinity() : 0.0);
  if (!points_.empty()) {
    s.ema = points_.back().ema;
    s.best_ema = points_.back().best_ema;
  }
  return s;
}

std::vector<Finding> Detector::observe(const Metrics& m, int64_t step) {
  std::vector<Finding> out;
  auto finding = [&](Rule rule, const char* metric, double value, bool act, std::string detail) {
    Finding f;
    f.rule = rule;
    f.metric = metric;
    f.value = value;
    f.step = step;
    f.onset_step = step;
    f.act = act;
    f.detail = std::move(detail);
    return f;
  };

  Point p{step, kNaN, kNaN, kNaN, kNaN, step};
  if (!points_.empty()) {
    p.ema = points_.back().ema;
    p.best_ema = points_.back().best_ema;
    p.best_step = points_.back().best_step;
  }

  // Hard rules: one finding per record, the most specific rule first, the other facts of
  // the same record in its detail.
  std::vector<std::string> facts;
  std::optional<Finding> hard;
  auto hard_rule = [&](Rule rule, const char* metric, double value, bool act, std::string detail) {
    if (!hard) hard = finding(rule, metric, value, act, detail);
    else facts.push_back(std::move(detail));
  };
  bool grad_bad = m.grad_norm && !std::isfinite(*m.grad_norm);
  bool zero = m.loss && *m.loss == 0.0;
  if (zero && (!m.grad_norm || *m.grad_norm == 0.0 || grad_bad)) {
    hard_rule(Rule::AllMasked, "loss", 0.0, true,
              std::string("loss is exactly 0 with grad norm ") + (m.grad_norm ? fmt(*m.grad_norm) : std::string("absent")) +
                  ": every label in the logged batches was ignored (-100)");
    grad_bad = false;  // explained by the masking
  }
  if (m.loss && std::isnan(*m.loss) && m.grad_norm && *m.grad_norm == 0.0) {
    // transformers 5 logs an all-masked batch as loss NaN (0 / 0 label tokens) with grad
    // norm exactly 0 (nothing to learn from); a numerical blow-up has NaN gradients too.
    hard_rule(Rule::AllMasked, "loss", *m.loss, true,
              "loss is nan with grad norm exactly 0: the logged batches had no label to learn from (all -100)");
  }
  if (m.loss && !std::isfinite(*m.loss) && !hard) hard_rule(Rule::NonFiniteLoss, "loss", *m.loss, true, "loss is " + fmt(*m.loss));
  if (m.loss_missing && !m.loss)
    hard_rule(Rule::LossMissing, "loss", kNaN, true, "the iteration line has no loss (Megatron drops it when the loss is NaN)");
  if (grad_bad) hard_rule(Rule::NonFiniteGradNorm, "grad_norm", *m.grad_norm, true, "grad norm is " + fmt(*m.grad_norm));
  // Megatron's counter covers the iterations since its previous log line (training_log
  // resets it), so any value above 0 is news.
  if (m.nan_iterations > 0)
    hard_rule(Rule::LossMissing, "nan_iterations", static_cast<double>(m.nan_iterations), true,
              "Megatron counted " + std::to_string(m.nan_iterations) + " NaN iteration(s) since its last log line");
  if (m.eval_loss && !std::isfinite(*m.eval_loss))
    hard_rule(Rule::NonFiniteEvalLoss, "eval_loss", *m.eval_loss, true, "eval loss is " + fmt(*m.eval_loss));
  if (zero && !hard) {
    ++zero_repeats_;
    hard_rule(Rule::ZeroLoss, "loss", 0.0, zero_repeats_ >= config_.zero_loss_repeats,
              "loss is exactly 0 with a finite grad norm (" + fmt(*m.grad_norm) + "), " + std::to_string(zero_repeats_) +
                  " time(s) in a row");
  }
  if (!zero) zero_repeats_ = 0;
  if (hard) {
    for (const std::string& f : facts) hard->detail += "; " + f;
    out.push_back(*hard);
    loss_pending_.reset();
    grad_pending_.reset();
    points_.push_back(p);
    return out;
  }

  bool judge = judging(step);
  bool loss_anomalous = false, grad_anomalous = false;
  WindowStats loss_stats, grad_stats;
  double log_loss = kNaN, log_grad = kNaN;
  if (m.loss && *m.loss > 0) {
    log_loss = std::log(*m.loss);
    loss_stats = window_stats(false, log_loss);
    loss_anomalous = judge && loss_stats.z >= config_.spike_z && *m.loss >= config_.spike_ratio * loss_stats.median &&
                     *m.loss - loss_stats.median >= config_.spike_min_rise;
  }
  if (m.grad_norm && *m.grad_norm > 0) {
    log_grad = std::log(*m.grad_norm);
    grad_stats = window_stats(true, log_grad);
    grad_anomalous = judge && grad_stats.n >= config_.min_points && grad_stats.z >= config_.grad_z &&
                     *m.grad_norm >= config_.grad_ratio * grad_stats.median;
  }

  bool acted = false;
  if (judge && !std::isnan(log_loss) && !std::isnan(log_grad) && loss_stats.z >= config_.cospike_z &&
      grad_stats.z >= config_.cospike_z && grad_stats.n >= config_.min_points &&
      *m.loss >= config_.spike_ratio * loss_stats.median && *m.loss - loss_stats.median >= config_.spike_min_rise) {
    Finding f = finding(Rule::CoSpike, "loss", *m.loss, true,
                        "loss " + fmt(*m.loss) + " (z " + fmt(loss_stats.z) + ", median " + fmt(loss_stats.median) +
                            ") and grad norm " + fmt(*m.grad_norm) + " (z " + fmt(grad_stats.z) + ", median " +
                            fmt(grad_stats.median) + ") spike together");
    f.stats = loss_stats;
    f.onset_step = loss_pending_.count ? loss_pending_.onset : step;
    out.push_back(f);
    acted = true;
  }
  auto spike = [&](bool anomalous, Pending& pending, Rule rule, const char* metric, double value,
                   const WindowStats& stats, int patience) {
    if (!anomalous) {
      pending.reset();
      return;
    }
    if (pending.count++ == 0) pending.onset = step;
    bool act = pending.count >= patience;
    Finding f = finding(rule, metric, value, act && !acted,
                        std::string(metric) + " " + fmt(value) + " is " + fmt(value / stats.median) +
                            "x the window median " + fmt(stats.median) + " (robust z " + fmt(stats.z) + "), " +
                            std::to_string(pending.count) + "/" + std::to_string(patience) + " in a row");
    f.stats = stats;
    f.onset_step = pending.onset;
    out.push_back(f);
    if (act) {
      acted = true;
      pending.reset();
    }
  };
  if (!acted) {
    spike(loss_anomalous, loss_pending_, Rule::LossSpike, "loss", m.loss.value_or(0), loss_stats,
          config_.spike_patience);
    spike(grad_anomalous, grad_pending_, Rule::GradSpike, "grad_norm", m.grad_norm.value_or(0), grad_stats,
          config_.grad_patience);
  } else {
    loss_pending_.reset();
    grad_pending_.reset();
  }

  // Accepted values enter the window; the EMA follows accepted losses only.
  if (!loss_anomalous && !acted && !std::isnan(log_loss)) {
    p.log_loss = log_loss;
    double alpha = 2.0 / (config_.ema_span + 1.0);
    p.ema = std::isnan(p.ema) ? *m.loss : alpha * *m.loss + (1 - alpha) * p.ema;
    // The best EMA counts only once the warm-up is over (the first losses fall fast).
    if (judge && (std::isnan(p.best_ema) || p.ema < p.best_ema)) {
      p.best_ema = p.ema;
      p.best_step = step;
    }
  }
  if (!grad_anomalous && !acted && !std::isnan(log_grad)) p.log_grad = log_grad;
  points_.push_back(p);
  accepted_ += !std::isnan(p.log_loss);

  if (judge && !acted && !std::isnan(p.log_loss) && !std::isnan(p.best_ema) &&
      p.ema > p.best_ema * (1 + config_.divergence_factor) && p.ema - p.best_ema >= config_.divergence_min_rise) {
    if (divergence_pending_.count++ == 0) divergence_pending_.onset = p.best_step;
    if (divergence_pending_.count >= config_.divergence_patience) {
      Finding f = finding(Rule::Divergence, "loss", *m.loss, true,
                          "the loss EMA " + fmt(p.ema) + " has stayed above its best " + fmt(p.best_ema) +
                              " (step " + std::to_string(p.best_step) + ") by more than " +
                              fmt(config_.divergence_factor * 100) + "% for " +
                              std::to_string(divergence_pending_.count) + " records");
      f.stats = loss_stats;
      f.stats.ema = p.ema;
      f.stats.best_ema = p.best_ema;
      f.onset_step = divergence_pending_.onset;
      out.push_back(f);
      divergence_pending_.reset();
    }
  } else {
    divergence_pending_.reset();
  }
  return out;
}

void Detector::restart_from(int64_t step, int64_t resume_step) {
  while (!points_.empty() && points_.back().step > step) {
    accepted_ -= !std::isnan(points_.back().log_loss);
    points_.pop_back();
  }
  cooldown_until_ = std::max(step, resume_step) + config_.cooldown_steps;
  zero_repeats_ = 0;
  loss_pending_.reset();
  grad_pending_.reset();
  divergence_pending_.reset();
}

}  // namespace tokalign::guard
