#include "guard/supervisor.h"

#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include "guard/checkpoint.h"
#include "guard/child_process.h"
#include "guard/incident_log.h"
#include "util/error.h"

namespace tokalign::guard {

namespace fs = std::filesystem;

namespace {

volatile sig_atomic_t g_signal = 0;
void on_signal(int sig) { g_signal = sig; }

std::vector<std::string> split_ws(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

const char* kPlaceholders[] = {"{checkpoint}", "{step}", "{skip_from}", "{skip_to}", "{lr_factor}", "{attempt}"};

std::string format_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string fill(std::string token, const TemplateValues& v) {
  std::map<std::string, std::string> values = {
      {"{checkpoint}", v.checkpoint},           {"{step}", std::to_string(v.step)},
      {"{skip_from}", std::to_string(v.skip_from)}, {"{skip_to}", std::to_string(v.skip_to)},
      {"{lr_factor}", format_double(v.lr_factor)}, {"{attempt}", std::to_string(v.attempt)}};
  for (const auto& [k, value] : values)
    for (size_t at = token.find(k); at != std::string::npos; at = token.find(k, at + value.size()))
      token.replace(at, k.size(), value);
  return token;
}

void check_template(const std::string& option, const std::string& t, const std::vector<std::string>& needs_one_of) {
  if (t.empty()) return;
  for (size_t at = t.find('{'); at != std::string::npos; at = t.find('{', at + 1)) {
    bool known = false;
    for (const char* p : kPlaceholders) known |= t.compare(at, std::char_traits<char>::length(p), p) == 0;
    if (!known)
      throw Error(option + " '" + t + "': unknown placeholder at '" + t.substr(at, t.find('}', at) - at + 1) +
                  "' (known: {checkpoint} {step} {skip_from} {skip_to} {lr_factor} {attempt})");
  }
  bool has = needs_one_of.empty();
  for (const std::string& p : needs_one_of) has |= t.find(p) != std::string::npos;
  if (!has) {
    std::string list;
    for (const std::string& p : needs_one_of) list += (list.empty() ? "" : " or ") + p;
    throw Error(option + " '" + t + "' must use " + list);
  }
}

std::string join_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`;&|<>*?()") == std::string::npos;
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

// The checkpoints of the run folder, and the copies set aside whose originals are gone.
std::vector<Checkpoint> candidates(const SupervisorConfig& c) {
  std::vector<Checkpoint> out = find_checkpoints(c.checkpoint_dir, c.checkpoint_pattern);
  for (Checkpoint& aside : find_checkpoints(c.aside_dir, c.checkpoint_pattern)) {
    bool have = false;
    for (const Checkpoint& o : out) have |= o.step == aside.step;
    if (!have) out.push_back(std::move(aside));
  }
  std::sort(out.begin(), out.end(), [](const Checkpoint& a, const Checkpoint& b) { return a.step < b.step; });
  return out;
}

bool inside(const std::string& path, const std::string& dir) {
  if (dir.empty()) return false;
  std::error_code ec;
  fs::path p = fs::weakly_canonical(path, ec), d = fs::weakly_canonical(dir, ec);
  auto [a, b] = std::mismatch(d.begin(), d.end(), p.begin(), p.end());
  return a == d.end();
}

// The checkpoints of the run folder after `step` belong to the run being abandoned: left in
// place, HF's rotation (which keeps the highest steps) would delete the resumed run's new
// checkpoints instead of them, and a later `--resume_from_checkpoint True` would pick them.
// They are moved, not deleted, to ASIDE/abandoned-ATTEMPT/.
size_t set_aside_later_checkpoints(const SupervisorConfig& c, int64_t step, int attempt) {
  size_t moved = 0;
  for (const Checkpoint& k : find_checkpoints(c.checkpoint_dir, c.checkpoint_pattern)) {
    if (k.step <= step) continue;
    fs::path dest = fs::path(c.aside_dir) / ("abandoned-" + std::to_string(attempt)) / fs::path(k.path).filename();
    std::error_code ec;
    fs::create_directories(dest.parent_path(), ec);
    fs::rename(k.path, dest, ec);
    if (ec) throw Error("cannot move the abandoned checkpoint " + k.path + " to " + dest.string() + ": " + ec.message());
    ++moved;
  }
  return moved;
}

struct Restart {
  std::vector<std::string> argv;
  std::string resume_from;  // the checkpoint (or prepared copy) the trainer resumes from
  int64_t first_step = 0;   // the step training continues after
  std::string give_up;      // non-empty: it cannot be done
};

// Turns a replay / skip decision into the files and the command of the next run.
template <typename Say>
Restart prepare_restart(const SupervisorConfig& cfg, const Decision& d, int attempt, Say& say) {
  Restart r;
  r.first_step = d.checkpoint.step;
  if (d.action == Action::Skip && cfg.skip_template.empty() && !d.checkpoint.hf) {
    r.give_up = d.checkpoint.path.empty()
                    ? "the anomaly came back and skipping data from the start needs --skip-template"
                    : "the anomaly came back and " + d.checkpoint.path +
                          " is not a Hugging Face checkpoint: skipping data needs --skip-template";
    return r;
  }
  size_t moved = set_aside_later_checkpoints(cfg, d.checkpoint.step, attempt);
  if (moved)
    say("moved " + std::to_string(moved) + " checkpoint(s) after step " + std::to_string(d.checkpoint.step) +
        " of the abandoned run to " + (fs::path(cfg.aside_dir) / ("abandoned-" + std::to_string(attempt))).string());

  TemplateValues values;
  std::vector<std::string> in_use;
  if (!d.checkpoint.path.empty()) {
    r.resume_from = inside(d.checkpoint.path, cfg.aside_dir) ? d.checkpoint.path
                                                             : protect_checkpoint(d.checkpoint, cfg.aside_dir);
    if (!cfg.resume_in_place) in_use.push_back(cfg.resume_template);
  }
  if (d.action == Action::Skip) {
    if (!cfg.skip_template.empty()) {
      in_use.push_back(cfg.skip_template);
    } else {
      r.resume_from = prepare_hf_skip(d.checkpoint, d.skip_to, cfg.aside_dir);
      r.first_step = d.skip_to;
    }
  }
  if (cfg.resume_in_place && !r.resume_from.empty() &&
      fs::weakly_canonical(fs::path(r.resume_from)).parent_path() != fs::weakly_canonical(cfg.checkpoint_dir)) {
    // The newest checkpoint of the folder is the one the trainer will pick.
    r.resume_from = link_copy(r.resume_from, cfg.checkpoint_dir, checkpoint_name(cfg.checkpoint_pattern, r.first_step));
  }
  if (d.lr_factor != 1.0) {
    if (!cfg.lr_template.empty()) in_use.push_back(cfg.lr_template);
    else say("--lr-factor has no effect without --lr-template");
  }
  values.checkpoint = r.resume_from;
  values.step = d.checkpoint.step;
  values.skip_from = d.skip_from;
  values.skip_to = d.skip_to;
  values.lr_factor = d.lr_factor;
  values.attempt = attempt + 1;
  r.argv = restart_command(cfg.command, in_use, values);
  return r;
}

}  // namespace

std::string find_argument(const std::vector<std::string>& argv, const std::vector<std::string>& names) {
  std::string found;
  for (size_t i = 0; i < argv.size(); ++i)
    for (const std::string& n : names) {
      if (argv[i] == n && i + 1 < argv.size()) found = argv[i + 1];
      else if (argv[i].size() > n.size() && argv[i].compare(0, n.size(), n) == 0 && argv[i][n.size()] == '=')
        found = argv[i].substr(n.size() + 1);
    }
  return found;
}

std::vector<std::string> restart_command(const std::vector<std::string>& argv,
                                         const std::vector<std::string>& templates_in_use,
                                         const TemplateValues& values) {
  // Options the templates set: "--opt VALUE" (valued when the next template token is not an
  // option), "--flag", or "--opt=VALUE". The trainer's own "--opt X" and "--opt=X" go.
  std::vector<std::pair<std::string, bool>> flags;
  for (const std::string& t : templates_in_use) {
    std::vector<std::string> tokens = split_ws(t);
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string& tok = tokens[i];
      if (tok.size() < 2 || tok[0] != '-') continue;
      size_t eq = tok.find('=');
      if (eq != std::string::npos)
        flags.push_back({tok.substr(0, eq), true});
      else if (tok.find('{') == std::string::npos)
        flags.push_back({tok, i + 1 < tokens.size() && tokens[i + 1][0] != '-'});
    }
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < argv.size(); ++i) {
    bool drop = false;
    for (const auto& [flag, valued] : flags) {
      if (i > 0 && argv[i] == flag) {
        drop = true;
        if (valued) ++i;
        break;
      }
      if (i > 0 && argv[i].size() > flag.size() && argv[i].compare(0, flag.size(), flag) == 0 &&
          argv[i][flag.size()] == '=') {
        drop = true;
        break;
      }
    }
    if (!drop) out.push_back(argv[i]);
  }
  for (const std::string& t : templates_in_use)
    for (const std::string& token : split_ws(t)) out.push_back(fill(token, values));
  return out;
}

void check_supervisor_config(const SupervisorConfig& c) {
  if (c.command.empty()) throw Error("no training command: tokalign guard [options] -- COMMAND [ARGS...]");
  check_template("--resume-template", c.resume_template, {"{checkpoint}", "{step}"});
  check_template("--skip-template", c.skip_template, {"{skip_from}", "{skip_to}"});
  check_template("--lr-template", c.lr_template, {"{lr_factor}"});
  check_checkpoint_pattern(c.checkpoint_pattern);
  if (c.grace_seconds < 0) throw Error("--grace-seconds must not be negative");
  if (c.give_up_code < 1 || c.give_up_code > 255) throw Error("--give-up-code must be 1..255");
}

int run_supervisor(SupervisorConfig cfg) {
  check_supervisor_config(cfg);
  if (cfg.checkpoint_dir.empty()) cfg.checkpoint_dir = find_argument(cfg.command, {"--output_dir", "--output-dir"});
  if (cfg.aside_dir.empty() && !cfg.checkpoint_dir.empty())
    cfg.aside_dir = (fs::path(cfg.checkpoint_dir) / ".tokalign-guard").string();
  if (cfg.incident_log.empty())
    cfg.incident_log = cfg.checkpoint_dir.empty()
                           ? std::string("tokalign-guard-incidents.jsonl")
                           : (fs::path(cfg.checkpoint_dir) / "tokalign-guard-incidents.jsonl").string();
  bool counted_default = false;
  if (cfg.logging_steps <= 0) {
    std::string ls = find_argument(cfg.command, {"--logging_steps", "--logging-steps"});
    char* end = nullptr;
    long long v = ls.empty() ? 0 : std::strtoll(ls.c_str(), &end, 10);
    if (v > 0 && end && *end == 0) {
      cfg.logging_steps = v;
    } else {
      cfg.logging_steps = 1;
      counted_default = true;
    }
  }
  if (cfg.checkpoint_dir.empty() && cfg.on_anomaly == OnAnomaly::Rollback)
    cfg.policy.from_scratch_ok = false;

  LogParser parser(cfg.format, cfg.metric_regex);
  Detector detector(cfg.detector);
  RollbackPolicy policy(cfg.policy);
  IncidentLog log(cfg.incident_log);
  auto say = [&](const std::string& msg) {
    if (!cfg.quiet) std::fprintf(stderr, "%stokalign guard: %s\n", take_stderr_mid_line() ? "\n" : "", msg.c_str());
  };
  if (cfg.checkpoint_dir.empty() && cfg.on_anomaly == OnAnomaly::Rollback)
    say("no checkpoint folder (no --checkpoint-dir and no --output_dir in the command): an anomaly stops the run");

  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::vector<std::pair<std::string, std::string>> env;
  if (!getenv("PYTHONUNBUFFERED")) env.push_back({"PYTHONUNBUFFERED", "1"});  // a pipe would block-buffer print()

  std::vector<std::string> argv = cfg.command;
  int attempt = 1;
  int64_t base_step = 0;
  int anomalies = 0, warnings = 0;
  bool warned_counting = false;

  auto finish = [&](int code, const std::string& how) {
    log.write(IncidentEvent("exit", attempt).integer("code", code).str("how", how).integer("rollbacks", policy.rollbacks()));
    if (!cfg.quiet) {
      if (take_stderr_mid_line()) std::fputc('\n', stderr);
      std::fprintf(stderr, "tokalign guard: summary: %d run(s), %d rollback(s), %d anomal%s, %d warning(s)\n", attempt,
                   policy.rollbacks(), anomalies, anomalies == 1 ? "y" : "ies", warnings);
      for (const std::string& l : log.summary()) std::fprintf(stderr, "  %s\n", l.c_str());
      std::fprintf(stderr, "  %s (exit %d)\n  incident log: %s\n", how.c_str(), code, cfg.incident_log.c_str());
    }
    return code;
  };

  for (;;) {
    ChildProcess child;
    log.write(IncidentEvent("start", attempt).str("command", join_command(argv)).integer("from_step", base_step));
    child.start(argv, env);

    int64_t last_step = base_step;
    bool stopping = false;
    std::optional<Finding> incident;
    auto on_line = [&](std::string_view line, bool) -> bool {
      // After an incident the run is being stopped: what it still prints is not judged.
      if (stopping || incident) return false;
      std::optional<Metrics> m = parser.parse(line);
      if (!m) return false;
      int64_t step;
      if (m->step) {
        step = *m->step;
      } else if (m->is_training()) {
        step = (last_step / cfg.logging_steps + 1) * cfg.logging_steps;
        if (counted_default && !warned_counting) {
          say("the log has no step numbers: counting them with --logging_steps 1 (pass --logging-steps N if "
              "the trainer logs every N steps)");
          warned_counting = true;
        }
      } else {
        step = last_step;
      }
      if (m->is_training()) {
        last_step = step;
        policy.reached(step);
      }
      for (const Finding& f : detector.observe(*m, step)) {
        bool act = f.act && cfg.on_anomaly != OnAnomaly::Warn;
        IncidentEvent e(f.act ? "anomaly" : "warning", attempt);
        e.integer("step", f.step).integer("onset_step", f.onset_step).str("rule", rule_name(f.rule));
        e.str("metric", f.metric).num("value", f.value);
        if (f.stats.n) {
          e.integer("window_n", static_cast<int64_t>(f.stats.n)).num("window_median", f.stats.median);
          e.num("window_mad_log", f.stats.mad).num("z", f.stats.z);
        }
        if (f.rule == Rule::Divergence) e.num("ema", f.stats.ema).num("best_ema", f.stats.best_ema);
        e.str("action", act && !incident ? (cfg.on_anomaly == OnAnomaly::Stop ? "stop" : "rollback") : f.act ? "warn" : "none");
        e.str("detail", f.detail);
        log.write(e);
        if (f.act) {
          ++anomalies;
          say("step " + std::to_string(f.step) + ": " + rule_name(f.rule) + ": " + f.detail);
          log.summary_line("step " + std::to_string(f.step) + " (onset " + std::to_string(f.onset_step) +
                           "): " + rule_name(f.rule) + ": " + f.detail);
        } else {
          ++warnings;
        }
        if (act && !incident) incident = f;
      }
      return incident.has_value();
    };

    bool interrupted = false;
    while (child.pump(200, on_line)) {
      if (g_signal) {
        interrupted = true;
        break;
      }
      if (incident) break;
    }
    if (g_signal) interrupted = true;
    if (interrupted) {
      int sig = g_signal;
      say(std::string("received ") + strsignal(sig) + ": passing it to the trainer");
      stopping = true;
      int code = child.stop(cfg.grace_seconds, on_line, sig);
      return finish(code, std::string("interrupted by ") + strsignal(sig));
    }

    Decision d;
    std::string incident_kind;
    if (incident) {
      stopping = true;
      if (child.running()) {
        say("stopping the trainer (SIGTERM, SIGKILL after " + format_double(cfg.grace_seconds) + " s)");
        child.stop(cfg.grace_seconds, on_line, SIGTERM);
      }
      if (cfg.on_anomaly == OnAnomaly::Stop)
        return finish(cfg.give_up_code, "stopped at step " + std::to_string(incident->step) + " on " +
                                            rule_name(incident->rule) + " (--on-anomaly stop)");
      d = policy.decide(incident->onset_step, candidates(cfg), false);
      incident_kind = rule_name(incident->rule);
    } else {
      int status = child.exit_status();
      if (status == 0) return finish(0, "the trainer finished at step " + std::to_string(last_step));
      log.write(IncidentEvent("crash", attempt).integer("code", status).integer("step", last_step));
      log.summary_line("step " + std::to_string(last_step) + ": the trainer exited with status " +
                       std::to_string(status));
      if (!cfg.restart_on_crash || cfg.on_anomaly != OnAnomaly::Rollback)
        return finish(status, "the trainer exited with status " + std::to_string(status));
      say("the trainer exited with status " + std::to_string(status) + " at step " + std::to_string(last_step));
      d = policy.decide(last_step + 1, candidates(cfg), true);
      incident_kind = "crash";
    }

    for (const Decision::Rejected& r : d.rejected) {
      log.write(IncidentEvent("checkpoint_rejected", attempt).str("checkpoint", r.path).str("reason", r.reason));
      if (!r.too_late) say("not resuming from " + r.path + ": " + r.reason);
    }
    if (d.action == Action::GiveUp) {
      log.write(IncidentEvent("give_up", attempt).str("reason", d.reason).str("incident", incident_kind));
      say("giving up: " + d.reason);
      log.summary_line("gave up: " + d.reason);
      return finish(cfg.give_up_code, "gave up");
    }
    Restart restart = prepare_restart(cfg, d, attempt, say);
    if (!restart.give_up.empty()) {
      log.write(IncidentEvent("give_up", attempt).str("reason", restart.give_up).str("incident", incident_kind));
      say("giving up: " + restart.give_up);
      log.summary_line("gave up: " + restart.give_up);
      return finish(cfg.give_up_code, "gave up");
    }
    argv = restart.argv;
    int64_t next_base = restart.first_step;

    IncidentEvent e("rollback", attempt);
    e.str("incident", incident_kind).str("action", action_name(d.action));
    e.str("checkpoint", d.checkpoint.path.empty() ? "(from scratch)" : d.checkpoint.path);
    e.integer("checkpoint_step", d.checkpoint.step);
    if (!restart.resume_from.empty()) e.str("resume_from", restart.resume_from);
    if (d.action == Action::Skip) e.integer("skip_from", d.skip_from).integer("skip_to", d.skip_to);
    e.num("lr_factor", d.lr_factor).integer("repeat", d.repeat).str("reason", d.reason);
    log.write(e);
    std::string what = std::string(action_name(d.action)) + " from " +
                       (d.checkpoint.path.empty() ? std::string("scratch") : fs::path(d.checkpoint.path).filename().string());
    if (d.action == Action::Skip) what += ", skipping steps " + std::to_string(d.skip_from) + "-" + std::to_string(d.skip_to);
    if (d.lr_factor != 1.0) what += ", LR x" + format_double(d.lr_factor);
    say("rollback " + std::to_string(d.attempt) + ": " + what + " (" + d.reason + ")");
    log.summary_line("  -> rollback " + std::to_string(d.attempt) + ": " + what);

    detector.restart_from(d.checkpoint.step, next_base);
    base_step = next_base;
    ++attempt;
  }
}

}  // namespace tokalign::guard
