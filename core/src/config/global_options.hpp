// The options accepted before or after any command word: they choose the config and how much is
// printed, so the config loader and the App need them as much as the CLI does.
#pragma once

#include <string>
#include <vector>

namespace sf {

struct GlobalOptions {
  int verbosity = 0;  // -v (1), -vv (2)
  bool quiet = false;
  bool json = false;
  std::vector<std::string> config_files;  // --config FILE (repeatable; later wins)
  std::string profile;                    // --profile NAME
};

}  // namespace sf
