// Checkpoints the guard can roll back to: finding them, judging them, keeping the chosen one
// safe from rotation, and preparing a Hugging Face copy that skips data on resume.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tokalign::guard {

struct Checkpoint {
  std::string path;
  int64_t step = 0;
  bool hf = false;          // a Hugging Face checkpoint folder (trainer_state.json)
  std::string problem;      // empty: usable; else why not (truncated, empty file, ...)
  // The first step of the checkpoint's own log_history (HF) that is non-finite or all-masked;
  // -1 when the history is clean or absent.
  int64_t bad_history_step = -1;
  std::string bad_history;  // what was wrong there
};

// Entries of `dir` whose name matches `pattern`, where {step} stands for the step digits
// (default "checkpoint-{step}", HF's layout; Megatron's is "iter_{step}"). Sorted by step,
// newest last. Each is judged: an HF folder needs a trainer_state.json that parses and agrees
// on the step; no checkpoint may hold an empty file. Missing dir: no checkpoints.
std::vector<Checkpoint> find_checkpoints(const std::string& dir, const std::string& pattern);

// Makes `pattern` usable or throws tokalign::Error (it must contain {step} once, no '/').
void check_checkpoint_pattern(const std::string& pattern);

// Python's json.dumps writes NaN, Infinity and -Infinity, which JSON parsers refuse: this
// returns the text with those tokens (outside strings) turned into the strings "NaN", ...
std::string quote_non_finite_json(const std::string& text);

// A hard-linked (or, across file systems, copied) tree of `from` at `dir`/`name`, made
// through a temporary sibling and a rename so that a half-made copy is never seen; an
// existing one is reused. Returns its path.
std::string link_copy(const std::string& from, const std::string& dir, const std::string& name);

// link_copy of the checkpoint into `aside_dir`/<its name>, so that checkpoint rotation
// (save_total_limit) cannot delete it.
std::string protect_checkpoint(const Checkpoint& c, const std::string& aside_dir);

// `pattern` with {step} replaced.
std::string checkpoint_name(const std::string& pattern, int64_t step);

// An HF checkpoint copy in `aside_dir` whose trainer_state.json says global_step = skip_to:
// HF's resume then fast-forwards the data loader past the batches of steps
// c.step+1 .. skip_to (it skips global_step batches of the epoch), so they are never trained;
// the LR schedule continues from the checkpoint's scheduler.pt and the run ends skip_to -
// c.step steps early. Needs a deterministic sampler (HF's default with a fixed seed).
std::string prepare_hf_skip(const Checkpoint& c, int64_t skip_to, const std::string& aside_dir);

}  // namespace tokalign::guard
