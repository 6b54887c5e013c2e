// `slurm-factory --config CONFIG ARGS...` run in process, its output captured (tests only); and
// the real binary started as a child process, to be killed with SIGKILL at a chosen moment.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli.hpp"

namespace sf::test {

// Empties `out` and `err`, runs the CLI into them and returns its exit code.
inline int run_cli(const std::filesystem::path& config, const std::vector<std::string>& args,
                   std::ostringstream& out, std::ostringstream& err) {
  out.str("");
  err.str("");
  std::vector<std::string> full{"--config", config.string()};
  full.insert(full.end(), args.begin(), args.end());
  return cli::run(full, out, err);
}

// The slurm-factory binary of this build tree.
inline std::filesystem::path cli_binary() {
  return std::filesystem::path(SF_TEST_BINARY_DIR) / "bin" / "slurm-factory";
}

// Starts `slurm-factory --config CONFIG ARGS...` (the real binary, this process's environment),
// its stdout and stderr appended to `log`. Returns its pid (-1 on failure).
inline pid_t spawn_cli(const std::filesystem::path& config, const std::vector<std::string>& args,
                       const std::filesystem::path& log) {
  std::vector<std::string> full{cli_binary().string(), "--config", config.string()};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;  // built before fork: the child only calls async-signal-safe functions
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const pid_t pid = ::fork();
  if (pid != 0) {
    if (fd >= 0) ::close(fd);
    return pid;
  }
  if (fd >= 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
  }
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

// Lets the child run for `after`, then SIGKILLs it (unless it ended already). Returns true when it
// was killed, false when it had exited by itself.
inline bool kill_after(pid_t pid, std::chrono::milliseconds after) {
  const auto deadline = std::chrono::steady_clock::now() + after;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

// Kill points spread over a run: `fractions` of how long `run_once` (one uninterrupted run)
// takes on this machine, so that the kills land inside the run on a quiet machine and on a busy
// one alike. Each point is at least 20 ms.
inline std::vector<std::chrono::milliseconds> kill_points(const std::function<void()>& run_once,
                                                          const std::vector<double>& fractions) {
  const auto t0 = std::chrono::steady_clock::now();
  run_once();
  const auto whole =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::vector<std::chrono::milliseconds> out;
  for (double f : fractions) {
    const auto ms = static_cast<long long>(static_cast<double>(whole.count()) * f);
    out.emplace_back(std::max<long long>(20, ms));
  }
  return out;
}

}  // namespace sf::test
