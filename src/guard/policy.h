// What the guard does about an incident: which checkpoint to resume from, whether to replay
// or skip data, and when to give up. Usable in-process (a trainer that saves its own
// checkpoints asks decide() and acts on the decision itself).
//
// The policy follows what large runs did by hand (PaLM: restart ~100 steps before a spike and
// skip 200-500 batches; OPT: an earlier checkpoint and a lower LR) and Megatron's rerun logic
// (replay first, to tell a transient fault from a data problem):
//   1. Resume from the newest usable checkpoint at least keep_distance steps before the
//      anomaly's onset whose own history is clean; replay the same data.
//   2. If the anomaly comes back at the same place (its onset between that checkpoint and the
//      end of the last skip + skip_margin), skip the data from the checkpoint to the onset +
//      skip_margin (a bad stretch longer than that shows up again just after the skip, and the
//      next skip reaches skip_margin further), and multiply the LR factor by lr_factor.
//   3. Give up after max_no_progress rollbacks that did not get progress_steps past the
//      incident, after max_rollbacks in all, or when no checkpoint qualifies.
// A crash (the trainer exits non-zero on its own) resumes from the newest usable checkpoint
// and counts towards the same caps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "guard/checkpoint.h"

namespace tokalign::guard {

struct PolicyConfig {
  int64_t keep_distance = 20;
  int64_t skip_margin = 50;
  double lr_factor = 1.0;
  int max_no_progress = 3;
  int64_t progress_steps = 100;
  int max_rollbacks = 20;
  bool can_skip = true;        // a skip template, or HF checkpoints to edit
  bool from_scratch_ok = true; // restart without a checkpoint when none qualifies
};

enum class Action { Replay, Skip, GiveUp };
const char* action_name(Action a);

struct Decision {
  Action action = Action::GiveUp;
  Checkpoint checkpoint;       // path empty: from scratch (step 0)
  int64_t skip_from = 0;       // steps skip_from..skip_to (inclusive) are not trained
  int64_t skip_to = 0;
  double lr_factor = 1.0;      // cumulative
  int attempt = 0;             // rollback number, 1-based
  int repeat = 0;              // how often this place failed before
  std::string reason;          // readable
  struct Rejected {
    std::string path, reason;
    bool too_late = false;  // only its step disqualified it (saved after the onset)
  };
  std::vector<Rejected> rejected;
};

class RollbackPolicy {
 public:
  explicit RollbackPolicy(PolicyConfig config = {});

  // An incident whose anomaly began at `onset_step` (crash: the last step seen + 1).
  Decision decide(int64_t onset_step, const std::vector<Checkpoint>& checkpoints, bool crash);

  // Every step the trainer reaches; progress past an incident resets the no-progress count.
  void reached(int64_t step);

  int rollbacks() const { return total_; }
  const PolicyConfig& config() const { return config_; }

 private:
  PolicyConfig config_;
  struct Place {
    bool active = false;
    int64_t checkpoint_step = 0;
    int64_t onset = 0;
    int64_t covered_to = 0;  // end of the last skip (or the onset)
    int failures = 0;
    double lr_factor = 1.0;
  } place_;
  int total_ = 0;
  int no_progress_ = 0;
  int64_t last_onset_ = -1;
};

}  // namespace tokalign::guard
