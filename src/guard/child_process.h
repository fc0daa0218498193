// A trainer run as a child process group: its output passed through unchanged and split into
// lines for the guard, and a way to stop all of it (data loader workers included).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tokalign::guard {

// True when the child's last byte on stderr was not a newline (a tqdm bar redrawn with \r),
// so that the guard's next message must start a new line; the guard is then assumed to
// have done so.
bool take_stderr_mid_line();

class ChildProcess {
 public:
  // Returns true to make pump() return at once (the guard wants to act on this line).
  using LineFn = std::function<bool(std::string_view line, bool from_stderr)>;

  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (searched in PATH) in a new process group with `env` added to the
  // environment. Throws tokalign::Error when it cannot be started (not found, not executable).
  void start(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env);

  // Copies the child's stdout/stderr to ours for up to timeout_ms and calls on_line for each
  // complete line (split on \n and \r). Returns false once the child has exited and its
  // output is drained (then exit_status() is set).
  bool pump(int timeout_ms, const LineFn& on_line);

  // `first_signal` (SIGTERM) to the group, SIGKILL to it after grace_seconds; waits and
  // drains. Returns the exit status.
  int stop(double grace_seconds, const LineFn& on_line, int first_signal);

  // Sends a signal to the whole group (forwarding Ctrl-C).
  void signal_group(int sig);

  bool running() const { return pid_ > 0 && !exited_; }
  // Shell convention: the exit code, or 128 + signal number.
  int exit_status() const { return status_; }
  pid_t pid() const { return pid_; }

 private:
  bool read_ready(int which, const LineFn& on_line);
  void flush_partial(const LineFn& on_line);
  void reap(bool block);
  void close_fds();

  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
  int fds_[2] = {-1, -1};  // stdout, stderr read ends
  std::string partial_[2];
  double exited_at_ = 0;   // monotonic seconds when the leader exited
};

}  // namespace tokalign::guard
