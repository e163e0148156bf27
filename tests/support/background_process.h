// The built binary run in the background, for tests that act while it runs
// (the concurrency matrix) or kill it at a chosen moment (the kill sweep).
// Output goes to files, not pipes, so a chatty child never blocks on a
// reader that is busy elsewhere.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "e2e/e2e_util.h"

namespace retention::e2e {

class BackgroundProcess {
 public:
  // Starts the binary with `args`; stdout and stderr go to `out_dir`/NAME.out
  // and .err.
  BackgroundProcess(const std::vector<std::string>& args, const fs::path& out_dir, const std::string& name)
      : out_(out_dir / (name + ".out")), err_(out_dir / (name + ".err")) {
    std::vector<std::string> store{kBinary};
    store.insert(store.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : store) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int in = ::open("/dev/null", O_RDONLY);
      int out = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int err = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (in < 0 || out < 0 || err < 0) ::_exit(126);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(err, 2);
      ::unsetenv("RETENTION_CONFIG");
      ::execv(store[0].c_str(), argv.data());
      ::_exit(127);
    }
  }
  ~BackgroundProcess() {
    if (!exit_code_) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }

  // True while the child has not exited (reaps it when it has).
  bool Running() {
    if (exit_code_) return false;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0) return true;
    if (r == pid_) Record(status);
    return false;
  }

  // The exit code; 128+N when killed by signal N.
  int Wait() {
    if (exit_code_) return *exit_code_;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) {
      if (errno != EINTR) throw std::runtime_error("waitpid failed");
    }
    Record(status);
    return *exit_code_;
  }

  void Kill() {
    if (!exit_code_) ::kill(pid_, SIGKILL);
  }

  RunResult Result() {
    RunResult r;
    r.exit_code = Wait();
    r.out = ReadFile(out_);
    r.err = ReadFile(err_);
    return r;
  }

 private:
  void Record(int status) { exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

  fs::path out_, err_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// A copy of `from` at `to` with modes and times kept (`cp -a`): the files
// store ages files by their mtime, which a plain copy would reset.
inline void CopyTree(const fs::path& from, const fs::path& to) {
  RunResult r = RunProgram({"/bin/cp", "-a", from.string(), to.string()});
  if (r.exit_code != 0) throw std::runtime_error("cp -a failed: " + Describe(r));
}

// The ledger head a purge printed ("Ledger head <64 hex>"), or "".
inline std::string PrintedHead(const std::string& out) {
  const std::string marker = "Ledger head ";
  const size_t at = out.rfind(marker);
  if (at == std::string::npos) return "";
  return out.substr(at + marker.size(), 64);
}

}  // namespace retention::e2e
