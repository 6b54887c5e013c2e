// Running a command-line tool (sbatch, squeue, ...) from a plugin: no shell, argv as given, stdout
// and stderr captured, an optional standard input, a time limit. Implemented in the core
// (core/src/support/command.cpp, over Boost.Process).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace sf {

struct CommandResult {
  int exit_code = -1;  // 127: the program was not found; 124: the time limit was reached
  std::string out;
  std::string err;
  bool ok() const { return exit_code == 0; }
};

// Runs argv[0] (looked up on PATH when it has no '/') with argv[1..]. The environment is this
// process's. Never throws for the command's failure: see exit_code and err.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = {},
                          std::chrono::seconds time_limit = std::chrono::seconds(60));

}  // namespace sf
