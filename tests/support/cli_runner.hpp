// `slurm-factory --config CONFIG ARGS...` run in process, its output captured (tests only).
#pragma once

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "slurm_factory/core/cli/cli.hpp"

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

}  // namespace sf::test
