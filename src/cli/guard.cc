// tokalign guard: runs a training command, watches its loss and grad norm, and rolls it back
// to a good checkpoint when they go wrong. See src/guard/ and docs/guard.md.
#include <string>
#include <vector>

#include "cli/commands.h"
#include "guard/supervisor.h"
#include "util/error.h"

namespace tokalign::cli {

namespace {

const char* kGuardFooter = R"(
What it does
  Runs COMMAND as a child process group and passes its output through unchanged. It reads
  metrics from the output (HF Trainer log dicts, old and new style; JSON lines; Megatron
  iteration lines; or --metric-regex), and on an anomaly stops the trainer (SIGTERM to the
  group, SIGKILL after --grace-seconds) and restarts it from a good checkpoint:
  first replaying the same data (a transient fault does not come back), then, if the anomaly
  recurs at the same place, skipping the data from the checkpoint to the onset +
  --skip-margin (further each time it recurs just after a skip), optionally scaling the LR. For HF checkpoints the
  skip is a prepared copy of the checkpoint whose trainer_state.json says a later
  global_step, so HF's resume fast-forwards past those batches; other trainers get
  --skip-template. Every event goes to the incident log as one JSON line.

Rules and why the defaults
  Always, from step 1: NaN/Inf loss, grad norm or eval loss; Megatron lines without "lm loss";
  loss exactly 0 with grad norm absent/0/NaN (every label masked: HF logs 0.0 and goes on).
  Loss exactly 0 with a finite grad norm acts after --zero-loss-repeats records (HF rounds a
  real loss < 5e-5 to 0.0).
  Spikes: robust z of log(loss) against the median and MAD of the last --window accepted
  records; z >= 6 as OLMo-core uses, AND >= --spike-ratio x the median AND >= --spike-min-rise
  nats above it (MAD is ~0 on a flat loss, so z alone would fire on noise), for
  --spike-patience records in a row (one hard batch is not a spike; a damaging spike keeps
  the loss up). Anomalous records never enter the window. Loss and grad norm both at
  z >= --cospike-z on one record act at once (OLMo 2: grad spikes come with loss spikes).
  Divergence: the loss EMA above its best by --divergence-factor for --divergence-patience
  records. None of these judge before --min-points records, before --warmup-steps, nor for
  --cooldown-steps after a restart (resumed runs wobble).
  Checkpoints: the newest usable one at least --keep-distance steps before the onset whose own
  log_history is clean; truncated ones (unparsable trainer_state.json, empty files) are
  skipped. The chosen one is hard-linked aside (CHECKPOINT_DIR/.tokalign-guard) so
  save_total_limit rotation cannot delete it. PaLM restarted ~100 steps before a spike and
  skipped 200-500 batches; the defaults are smaller to suit fine-tuning runs.
  Give up (exit --give-up-code) after --max-no-progress rollbacks that did not get
  --progress-steps past the incident, or --max-rollbacks in all.

Exit status: the trainer's own when it ends (0 when it finished), --give-up-code (4) when
the guard gives up or --on-anomaly stop stops it, 2 on a usage error, 3 when the command
cannot be run.

Examples
  tokalign guard -- python train.py --output_dir out --logging_steps 1 --save_steps 100
  tokalign guard --resume-in-place -- deepspeed llava/train/train_mem.py ... --output_dir ./checkpoints/llava
  tokalign guard --skip-template '--iterations-to-skip {skip_from}-{skip_to}' \
     --checkpoint-dir ckpts --checkpoint-pattern 'iter_{step}' --resume-template '--load ckpts' -- bash pretrain.sh
  tokalign guard --on-anomaly stop -- torchrun --nproc_per_node 8 train.py ...
Recommended for HF: --logging_steps 1 (HF averages the loss over logging_steps) and
--logging_nan_inf_filter False (else HF hides NaN losses behind the running average).)";

}  // namespace

Run add_guard(CLI::App& app) {
  auto cfg = std::make_shared<guard::SupervisorConfig>();
  auto format = std::make_shared<std::string>("auto");
  auto on_anomaly = std::make_shared<std::string>("rollback");
  auto no_restart = std::make_shared<bool>(false);
  app.footer(kGuardFooter);
  app.add_option("command", cfg->command, "The training command and its arguments (after --)")->required();
  auto& d = cfg->detector;
  auto& p = cfg->policy;
  app.add_option("--log-format", *format, "auto | hf | json | megatron | regex")->capture_default_str();
  app.add_option("--metric-regex", cfg->metric_regex,
                 "PCRE2 pattern with named groups loss, grad_norm, step, lr, epoch, eval_loss");
  app.add_option("--logging-steps", cfg->logging_steps,
                 "Steps between log records, for logs without step numbers (default: the command's "
                 "--logging_steps, else 1)");
  app.add_option("--checkpoint-dir", cfg->checkpoint_dir, "Where checkpoints appear (default: the command's --output_dir)");
  app.add_option("--checkpoint-pattern", cfg->checkpoint_pattern, "Checkpoint names in it, {step} for the step")
      ->capture_default_str();
  app.add_option("--aside-dir", cfg->aside_dir, "Where chosen checkpoints are kept safe (default: CHECKPOINT_DIR/.tokalign-guard)");
  app.add_option("--incident-log", cfg->incident_log,
                 "JSONL incident log (default: CHECKPOINT_DIR/tokalign-guard-incidents.jsonl)");
  app.add_option("--resume-template", cfg->resume_template,
                 "Arguments appended to resume; {checkpoint} {step} {attempt}")
      ->capture_default_str();
  app.add_flag("--resume-in-place", cfg->resume_in_place,
               "The trainer resumes from the newest checkpoint-* of its output folder by itself (LLaVA's "
               "train.py does): no resume arguments; the guard makes the checkpoint to resume from the newest");
  app.add_option("--skip-template", cfg->skip_template,
                 "Arguments appended to skip data; {skip_from} {skip_to} (steps, inclusive)");
  app.add_option("--lr-template", cfg->lr_template, "Arguments appended when the LR is scaled; {lr_factor}");
  app.add_option("--lr-factor", p.lr_factor, "LR multiplier applied with each skip (needs --lr-template)")
      ->capture_default_str();
  app.add_option("--on-anomaly", *on_anomaly, "rollback | stop | warn")->capture_default_str();
  app.add_flag("--no-restart-on-crash", *no_restart, "Exit with the trainer's status when it crashes");
  app.add_option("--grace-seconds", cfg->grace_seconds, "SIGTERM to SIGKILL")->capture_default_str();
  app.add_option("--give-up-code", cfg->give_up_code, "Exit status when the guard gives up")->capture_default_str();
  app.add_flag("--quiet", cfg->quiet, "No guard messages on stderr (the incident log still has everything)");
  app.add_option("--window", d.window, "Records in the robust window")->capture_default_str();
  app.add_option("--min-points", d.min_points, "Records before statistical rules judge")->capture_default_str();
  app.add_option("--warmup-steps", d.warmup_steps, "No statistical judgement before this step")->capture_default_str();
  app.add_option("--cooldown-steps", d.cooldown_steps, "Nor this many steps after a restart")->capture_default_str();
  app.add_option("--spike-z", d.spike_z, "Robust z of log(loss)")->capture_default_str();
  app.add_option("--spike-ratio", d.spike_ratio, "Loss / window median")->capture_default_str();
  app.add_option("--spike-min-rise", d.spike_min_rise, "Loss - window median, nats")->capture_default_str();
  app.add_option("--spike-patience", d.spike_patience, "Anomalous records in a row")->capture_default_str();
  app.add_option("--grad-z", d.grad_z, "Robust z of log(grad norm)")->capture_default_str();
  app.add_option("--grad-ratio", d.grad_ratio, "Grad norm / window median")->capture_default_str();
  app.add_option("--grad-patience", d.grad_patience, "Anomalous grad norms in a row")->capture_default_str();
  app.add_option("--cospike-z", d.cospike_z, "Loss and grad norm z on one record: act at once")->capture_default_str();
  app.add_option("--ema-span", d.ema_span, "Span of the loss EMA (divergence)")->capture_default_str();
  app.add_option("--divergence-factor", d.divergence_factor, "EMA above its best by this fraction")->capture_default_str();
  app.add_option("--divergence-min-rise", d.divergence_min_rise, "and by at least this many nats")->capture_default_str();
  app.add_option("--divergence-patience", d.divergence_patience, "for this many records")->capture_default_str();
  app.add_option("--zero-loss-repeats", d.zero_loss_repeats, "Zero losses with finite grad norm before acting")
      ->capture_default_str();
  app.add_option("--keep-distance", p.keep_distance, "Checkpoint at least this many steps before the onset")
      ->capture_default_str();
  app.add_option("--skip-margin", p.skip_margin, "Skip up to the onset + this many steps")->capture_default_str();
  app.add_option("--max-no-progress", p.max_no_progress, "Rollbacks without progress before giving up")
      ->capture_default_str();
  app.add_option("--progress-steps", p.progress_steps, "Steps past an incident that count as progress")
      ->capture_default_str();
  app.add_option("--max-rollbacks", p.max_rollbacks, "Rollbacks in all before giving up")->capture_default_str();
  return [=]() -> int {
    guard::SupervisorConfig c = *cfg;
    try {
      c.format = guard::parse_log_format(*format);
      if (*on_anomaly == "rollback") c.on_anomaly = guard::OnAnomaly::Rollback;
      else if (*on_anomaly == "stop") c.on_anomaly = guard::OnAnomaly::Stop;
      else if (*on_anomaly == "warn") c.on_anomaly = guard::OnAnomaly::Warn;
      else throw Error("--on-anomaly must be rollback, stop or warn, not '" + *on_anomaly + "'");
      c.restart_on_crash = !*no_restart;
      guard::check_supervisor_config(c);
      guard::LogParser check(c.format, c.metric_regex);  // a bad regex is a usage error
    } catch (const Error& e) {
      std::fprintf(stderr, "tokalign guard: %s\n", e.what());
      return 2;
    }
    return guard::run_supervisor(std::move(c));
  };
}

}  // namespace tokalign::cli
