#include "guard/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"

namespace tokalign::guard {

namespace {

// A line longer than this is handed over in pieces (no trainer metric line is near it).
constexpr size_t kMaxLine = 1 << 20;
// After the leader exits, how long grandchildren may keep the pipes open before the group is
// killed (a data loader worker that outlives the trainer).
constexpr double kDrainSeconds = 5.0;

bool g_stderr_at_line_start = true;

double now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;  // our own output is gone (a closed pipe): keep supervising
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

bool take_stderr_mid_line() {
  bool mid = !g_stderr_at_line_start;
  g_stderr_at_line_start = true;
  return mid;
}

ChildProcess::~ChildProcess() {
  if (running()) {
    ::kill(-pid_, SIGKILL);
    reap(true);
  }
  close_fds();
}

void ChildProcess::close_fds() {
  for (int& fd : fds_)
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
}

void ChildProcess::start(const std::vector<std::string>& argv,
                         const std::vector<std::pair<std::string, std::string>>& env) {
  if (argv.empty()) throw Error("guard: no training command given (tokalign guard [options] -- COMMAND ...)");
  close_fds();
  partial_[0].clear();
  partial_[1].clear();
  int out[2], err[2], status_pipe[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 || ::pipe2(status_pipe, O_CLOEXEC) != 0)
    throw Error(std::string("guard: cannot create pipes: ") + strerror(errno));
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw Error(std::string("guard: cannot fork: ") + strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    ::execvp(args[0], args.data());
    int e = errno;
    ssize_t ignored = ::write(status_pipe[1], &e, sizeof e);
    (void)ignored;
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // both sides, so signal_group() cannot race the child's setpgid
  ::close(out[1]);
  ::close(err[1]);
  ::close(status_pipe[1]);
  int child_errno = 0;
  ssize_t n;
  do n = ::read(status_pipe[0], &child_errno, sizeof child_errno);
  while (n < 0 && errno == EINTR);
  ::close(status_pipe[0]);
  pid_ = pid;
  exited_ = false;
  status_ = 0;
  fds_[0] = out[0];
  fds_[1] = err[0];
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    reap(true);
    close_fds();
    throw Error("guard: cannot run '" + argv[0] + "': " + strerror(child_errno));
  }
  for (int fd : fds_) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

void ChildProcess::reap(bool block) {
  if (pid_ <= 0 || exited_) return;
  int st = 0;
  pid_t r;
  do r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == pid_) {
    exited_ = true;
    exited_at_ = now();
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
  } else if (r < 0) {
    exited_ = true;
    exited_at_ = now();
    status_ = 1;
  }
}

// Reads what is there; true when on_line asked to return (the rest of the chunk has been
// passed through and split, but lines after the asking one are not handed over).
bool ChildProcess::read_ready(int which, const LineFn& on_line) {
  char buf[65536];
  bool wants_return = false;
  auto hand = [&](std::string_view line) {
    if (!wants_return) wants_return = on_line(line, which == 1);
  };
  for (;;) {
    ssize_t n = ::read(fds_[which], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return wants_return;  // EAGAIN
    if (n == 0) {
      ::close(fds_[which]);
      fds_[which] = -1;
      if (!partial_[which].empty()) {
        hand(partial_[which]);
        partial_[which].clear();
      }
      return wants_return;
    }
    write_all(which == 0 ? 1 : 2, buf, static_cast<size_t>(n));
    if (which == 1) g_stderr_at_line_start = buf[n - 1] == '\n';
    std::string& part = partial_[which];
    size_t begin = 0;
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] != '\n' && buf[i] != '\r') continue;
      part.append(buf + begin, static_cast<size_t>(i) - begin);
      if (!part.empty()) hand(part);
      part.clear();
      begin = static_cast<size_t>(i) + 1;
    }
    part.append(buf + begin, static_cast<size_t>(n) - begin);
    if (part.size() > kMaxLine) {
      hand(part);
      part.clear();
    }
    if (wants_return) return true;
  }
}

void ChildProcess::flush_partial(const LineFn& on_line) {
  for (int i = 0; i < 2; ++i)
    if (!partial_[i].empty()) {
      (void)on_line(partial_[i], i == 1);
      partial_[i].clear();
    }
}

bool ChildProcess::pump(int timeout_ms, const LineFn& on_line) {
  if (pid_ <= 0) return false;
  double deadline = now() + timeout_ms / 1000.0;
  for (;;) {
    reap(false);
    pollfd p[2];
    int n = 0;
    int which[2];
    for (int i = 0; i < 2; ++i)
      if (fds_[i] >= 0) {
        p[n] = {fds_[i], POLLIN, 0};
        which[n++] = i;
      }
    if (n == 0) {
      if (exited_) return false;
      reap(false);
      if (exited_) return false;
      struct timespec ts = {0, 50 * 1000 * 1000};
      nanosleep(&ts, nullptr);
      if (now() >= deadline) return true;
      continue;
    }
    if (exited_ && now() - exited_at_ > kDrainSeconds) {
      // The leader is gone but something in its group still holds the pipes.
      ::kill(-pid_, SIGKILL);
      for (int i = 0; i < 2; ++i)
        if (fds_[i] >= 0) read_ready(i, on_line);
      flush_partial(on_line);
      close_fds();
      return false;
    }
    int wait_ms = static_cast<int>((deadline - now()) * 1000);
    if (wait_ms < 0) wait_ms = 0;
    if (wait_ms > 100) wait_ms = 100;  // notice the leader's exit promptly
    int r = ::poll(p, static_cast<nfds_t>(n), wait_ms);
    if (r > 0) {
      bool act = false;
      for (int k = 0; k < n; ++k)
        if (p[k].revents & (POLLIN | POLLHUP | POLLERR)) act |= read_ready(which[k], on_line);
      if (act) return true;
    } else if (r < 0 && errno == EINTR) {
      return true;  // a signal for the supervisor to look at
    }
    if (now() >= deadline) return true;
  }
}

void ChildProcess::signal_group(int sig) {
  if (pid_ > 0) ::kill(-pid_, sig);
}

int ChildProcess::stop(double grace_seconds, const LineFn& on_line, int first_signal) {
  if (pid_ <= 0) return status_;
  if (!exited_) signal_group(first_signal);
  double deadline = now() + grace_seconds;
  while (!exited_ && now() < deadline) pump(100, on_line);
  if (!exited_) {
    signal_group(SIGKILL);
    reap(true);
  }
  // Workers of the group that ignored SIGTERM.
  signal_group(SIGKILL);
  while (pump(100, on_line)) {
  }
  close_fds();
  return status_;
}

}  // namespace tokalign::guard
