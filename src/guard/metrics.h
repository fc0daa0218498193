// One training log record, as the guard reads it from a trainer's output (or as a trainer
// hands it to the guard's detectors in-process).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tokalign::guard {

struct Metrics {
  // The optimizer step this record belongs to: from the log when it says (JSON "step",
  // Megatron "iteration N/"), else counted by the supervisor.
  std::optional<int64_t> step;
  std::optional<double> loss;       // training loss; may be NaN or infinite
  std::optional<double> grad_norm;  // before clipping, as HF and Megatron log it
  std::optional<double> learning_rate;
  std::optional<double> epoch;
  std::optional<double> eval_loss;  // an evaluation record (no training loss)
  // Megatron: the iteration line carries no "lm loss" (what it prints when the loss is NaN),
  // or its "number of nan iterations" counter is above zero.
  bool loss_missing = false;
  int64_t nan_iterations = 0;

  bool is_training() const { return loss.has_value() || loss_missing; }
  bool empty() const { return !is_training() && !eval_loss && !grad_norm; }
};

}  // namespace tokalign::guard
