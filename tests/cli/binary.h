// Running the paidoc binary from tests: one-shot commands through the shell,
// and `paidoc serve` as a child process that can be stopped or killed.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace paidoc::cli::testing {

namespace fs = std::filesystem;

struct CmdResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh temporary folder, removed on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix) {
    std::random_device rd;
    path_ = fs::temp_directory_path() / (prefix + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return (path_ / rel).string(); }

 private:
  fs::path path_;
};

// Quotes one shell word.
inline std::string sh(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs a shell command line; stdout and stderr are captured separately
// (stderr through a file in `scratch`).
inline CmdResult shell(const std::string& command, const fs::path& scratch) {
  fs::path err = scratch / "stderr.txt";
  std::string cmd = command + " 2>" + sh(err.string());
  CmdResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = slurp(err);
  return r;
}

// `paidoc ARGS` (ARGS is shell text).
inline CmdResult paidoc(const std::string& args, const fs::path& scratch) {
  return shell(std::string(PAIDOC_BINARY) + " " + args, scratch);
}

// Starts `paidoc ARGS...` with its stdout on a pipe (stderr to /dev/null),
// to be read while it runs and killed at a chosen moment; answers the pid
// (-1 when it could not start) and sets *out_fd to the pipe's read end. The
// caller reaps the child (waitpid) and closes the pipe.
inline pid_t spawn_paidoc(const std::vector<std::string>& args, int* out_fd) {
  // Everything the child needs is made before fork(): the parent may have
  // other threads, and the child only calls async-signal-safe functions.
  std::string bin = PAIDOC_BINARY;
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  argv.push_back(bin.data());
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  // Close-on-exec, so that no other child started meanwhile holds the
  // write end open (dup2 clears the flag on the child's stdout).
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDERR_FILENO);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return -1;
  }
  *out_fd = fds[0];
  return pid;
}

// The child's limit on open files, set (soft and hard) between fork and
// exec; 0: inherited.
struct OpenFileLimit {
  rlim_t soft = 0;
  rlim_t hard = 0;
};

// `paidoc [GLOBAL...] serve ARGS...` as a child process whose stdout and
// stderr go to files.
class ServeProcess {
 public:
  ServeProcess(std::vector<std::string> args, fs::path out, fs::path err,
               const std::vector<std::string>& global = {}, OpenFileLimit nofile = {})
      : out_(std::move(out)), err_(std::move(err)) {
    args.insert(args.begin(), "serve");
    args.insert(args.begin(), global.begin(), global.end());
    args.insert(args.begin(), PAIDOC_BINARY);
    // Buffered test output would otherwise be written again by the child.
    std::fflush(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      if (!freopen(out_.c_str(), "w", stdout) || !freopen(err_.c_str(), "w", stderr)) _exit(126);
      if (nofile.soft > 0) {
        struct rlimit rl {nofile.soft, nofile.hard};
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(125);
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(PAIDOC_BINARY, argv.data());
      _exit(127);
    }
  }
  ~ServeProcess() {
    if (running()) kill_now();
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !reaped_; }
  std::string logs() const { return slurp(out_) + slurp(err_); }

  // Waits (up to timeout_ms) for "serving on http://127.0.0.1:PORT/";
  // 0 when it did not come (the process exited or was too slow).
  int wait_port(int timeout_ms = 15000) {
    const std::string mark = "serving on http://127.0.0.1:";
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
      std::string l = logs();
      size_t at = l.find(mark);
      if (at != std::string::npos) return std::atoi(l.c_str() + at + mark.size());
      if (exited()) return 0;
      usleep(20 * 1000);
    }
    return 0;
  }

  // True once the child has exited (reaps it).
  bool exited() {
    if (reaped_) return true;
    if (waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
    return reaped_;
  }
  // Waits up to timeout_ms for the exit; answers the exit code, -1 on a
  // signal, -2 when still running.
  int wait_exit(int timeout_ms) {
    for (int waited = 0; waited <= timeout_ms && !exited(); waited += 20) usleep(20 * 1000);
    if (!reaped_) return -2;
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }
  bool killed_by(int sig) const { return reaped_ && WIFSIGNALED(status_) && WTERMSIG(status_) == sig; }

  void kill_now() {
    if (!running()) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    reaped_ = true;
  }

 private:
  fs::path out_, err_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
};

}  // namespace paidoc::cli::testing
