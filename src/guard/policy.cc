#include "guard/policy.h"

#include <algorithm>

namespace tokalign::guard {

const char* action_name(Action a) {
  switch (a) {
    case Action::Replay: return "replay";
    case Action::Skip: return "skip";
    case Action::GiveUp: return "give_up";
  }
  return "?";
}

RollbackPolicy::RollbackPolicy(PolicyConfig config) : config_(config) {
  if (config_.keep_distance < 0) config_.keep_distance = 0;
  if (config_.skip_margin < 1) config_.skip_margin = 1;
  if (config_.max_no_progress < 1) config_.max_no_progress = 1;
}

void RollbackPolicy::reached(int64_t step) {
  if (last_onset_ >= 0 && step >= last_onset_ + config_.progress_steps) {
    no_progress_ = 0;
    last_onset_ = -1;
    place_.active = false;
  }
}

Decision RollbackPolicy::decide(int64_t onset, const std::vector<Checkpoint>& checkpoints, bool crash) {
  Decision d;
  d.attempt = total_ + 1;
  if (total_ >= config_.max_rollbacks) {
    d.reason = "reached the cap of " + std::to_string(config_.max_rollbacks) + " rollbacks";
    return d;
  }
  if (no_progress_ >= config_.max_no_progress) {
    d.reason = std::to_string(no_progress_) + " rollbacks in a row without getting " +
               std::to_string(config_.progress_steps) + " steps past the incident";
    return d;
  }

  // The newest usable checkpoint far enough before the onset with a clean history.
  int64_t limit = crash ? onset : onset - config_.keep_distance;
  const Checkpoint* chosen = nullptr;
  for (auto it = checkpoints.rbegin(); it != checkpoints.rend(); ++it) {
    const Checkpoint& c = *it;
    if (!c.problem.empty()) {
      d.rejected.push_back({c.path, c.problem, false});
      continue;
    }
    if (c.step > limit) {
      d.rejected.push_back({c.path, "step " + std::to_string(c.step) + " is after step " + std::to_string(limit) +
                                        (crash ? "" : " (keep_distance " + std::to_string(config_.keep_distance) +
                                                          " before the onset " + std::to_string(onset) + ")"),
                            true});
      continue;
    }
    if (c.bad_history_step >= 0) {
      d.rejected.push_back({c.path, "its history is bad at step " + std::to_string(c.bad_history_step) + ": " +
                                        c.bad_history,
                            false});
      continue;
    }
    chosen = &c;
    break;
  }
  if (chosen) {
    d.checkpoint = *chosen;
  } else if (!config_.from_scratch_ok) {
    d.reason = "no usable checkpoint at or before step " + std::to_string(limit);
    return d;
  } else {
    d.checkpoint = Checkpoint{};  // from scratch
  }

  bool same_place = place_.active && onset >= place_.checkpoint_step &&
                    onset <= std::max(place_.onset, place_.covered_to) + config_.skip_margin;
  if (!same_place) {
    place_ = Place{};
    place_.active = true;
    place_.lr_factor = 1.0;
  }
  d.repeat = place_.failures;
  place_.failures++;
  place_.checkpoint_step = d.checkpoint.step;
  place_.onset = onset;

  if (crash || place_.failures == 1) {
    d.action = Action::Replay;
    d.lr_factor = place_.lr_factor;
    place_.covered_to = std::max(place_.covered_to, onset);
    d.reason = crash ? "the trainer crashed: resume from the newest usable checkpoint"
                     : "first occurrence here: replay the same data from the checkpoint (a transient fault "
                       "will not come back)";
  } else if (!config_.can_skip) {
    d.reason = "the anomaly came back at the same place and there is no way to skip data (give --skip-template, "
               "or use Hugging Face checkpoints)";
    return d;
  } else {
    d.action = Action::Skip;
    d.skip_from = d.checkpoint.step + 1;
    d.skip_to = std::max(onset, place_.covered_to) + config_.skip_margin;
    place_.covered_to = d.skip_to;
    place_.lr_factor *= config_.lr_factor;
    d.lr_factor = place_.lr_factor;
    d.reason = "the anomaly came back at the same place (" + std::to_string(d.repeat) +
               " time(s) before): skip the data of steps " + std::to_string(d.skip_from) + "-" +
               std::to_string(d.skip_to);
  }
  ++total_;
  ++no_progress_;
  last_onset_ = std::max(last_onset_, onset);
  return d;
}

}  // namespace tokalign::guard
