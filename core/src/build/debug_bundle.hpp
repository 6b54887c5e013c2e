// What a failed build step leaves for the user: the step it failed in, a debug bundle
// (<logs>/<package>-debug/: the full log, the generated script, config.log and the like, and
// rerun.sh, a command that reruns the step in the state the build left), and the BuildError that
// names them with the last lines of the log.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "build/build_executor.hpp"
#include "containers/hermetic_runner.hpp"

namespace sf {

struct DebugBundle {
  std::string rerun;       // the command that reruns the step
  std::string not_copied;  // files of the work folder refused (links, not regular), one a line
};

// The step a failed build was in, from the .stage file it keeps (a regular file of a few bytes
// holding a step name; anything else, a link included, is not read and gives "unknown").
std::string failed_stage(const std::filesystem::path& work);

// The debug bundle of a failed step. What it takes from the work folder (the script, config.log
// and the like) it copies only as regular files reached without following a link, each cut at
// 64 MiB; a link or special file there is named in `not_copied`, never followed. The rerun
// command uses `options`' backend command, network and image.
DebugBundle write_debug_bundle(const BuildExecutorOptions& options, const PackageSpec& spec,
                               const std::filesystem::path& bundle,
                               const std::filesystem::path& work, const std::filesystem::path& deps,
                               const std::vector<Mount>& extra, const std::filesystem::path& log,
                               const std::string& stage, const std::string& script_name);

// The BuildError of a failed step: package, step, exit code, the log's `tail`, the bundle.
[[noreturn]] void fail_step(const PackageSpec& spec, const std::string& stage, int exit_code,
                            const std::vector<std::string>& tail, const std::filesystem::path& log,
                            const std::filesystem::path& bundle, const DebugBundle& debug);

// `lines`, each indented by four spaces and ended by a newline (as error messages quote them).
std::string join_lines(const std::vector<std::string>& lines);

}  // namespace sf
