// Where the tool's data (templates/, configs/) lives at run time.
#pragma once

#include <filesystem>

namespace sf {

// The data directory holding templates/ and configs/:
//   1. $SLURM_FACTORY_DATA_DIR when set;
//   2. <dir of libslurm-factory-core.so>/../share/slurm-factory (the install and build-tree layout)
//      when it has a templates/ folder;
//   3. the source tree the core was compiled from (a build tree runs from there).
// Throws ConfigurationError naming every place looked at when none has templates/.
std::filesystem::path data_dir();

// data_dir() / "templates".
std::filesystem::path templates_dir();

}  // namespace sf
