// `tokalign guard -- COMMAND ...`: runs a trainer, reads its metrics from its output, and on
// an anomaly stops it and resumes it from a good checkpoint (replaying, then skipping data),
// recording every event in the incident log.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "guard/detector.h"
#include "guard/log_parser.h"
#include "guard/policy.h"

namespace tokalign::guard {

enum class OnAnomaly { Rollback, Stop, Warn };

struct SupervisorConfig {
  std::vector<std::string> command;
  LogFormat format = LogFormat::Auto;
  std::string metric_regex;
  std::string checkpoint_dir;  // empty: the command's --output_dir, if any
  std::string checkpoint_pattern = "checkpoint-{step}";
  std::string aside_dir;       // empty: CHECKPOINT_DIR/.tokalign-guard
  std::string incident_log;    // empty: CHECKPOINT_DIR/tokalign-guard-incidents.jsonl (or ./)
  std::string resume_template = "--resume_from_checkpoint {checkpoint}";
  std::string skip_template;   // e.g. "--skip-steps {skip_from}-{skip_to}"
  std::string lr_template;     // e.g. "--lr-scale {lr_factor}"
  // For trainers that resume from the newest checkpoint-* of their output folder by
  // themselves (LLaVA's train.py): no resume arguments; the checkpoint to resume from (or
  // its skip copy) is made the newest one there instead.
  bool resume_in_place = false;
  int64_t logging_steps = 0;   // counted steps: 0 = the command's --logging_steps, else 1
  double grace_seconds = 30;
  bool restart_on_crash = true;
  OnAnomaly on_anomaly = OnAnomaly::Rollback;
  int give_up_code = 4;
  bool quiet = false;          // no guard messages on stderr (incident log only)
  DetectorConfig detector;
  PolicyConfig policy;
};

// Validates the templates and options; throws tokalign::Error with what is wrong.
void check_supervisor_config(const SupervisorConfig& c);

// The value of --name / --name=value / -name value in argv (the trainer's own arguments).
std::string find_argument(const std::vector<std::string>& argv, const std::vector<std::string>& names);

// The command for a restart: argv without the options the templates set, then the templates
// with their placeholders ({checkpoint} {step} {skip_from} {skip_to} {lr_factor} {attempt})
// filled from `values`.
struct TemplateValues {
  std::string checkpoint;
  int64_t step = 0, skip_from = 0, skip_to = 0;
  double lr_factor = 1.0;
  int attempt = 1;
};
std::vector<std::string> restart_command(const std::vector<std::string>& argv,
                                         const std::vector<std::string>& templates_in_use,
                                         const TemplateValues& values);

// Runs the supervisor; returns the exit code (the trainer's own, or give_up_code).
int run_supervisor(SupervisorConfig config);

}  // namespace tokalign::guard
