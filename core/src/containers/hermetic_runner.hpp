// Runs a script in a fresh container from a toolchain image, hermetically: as the unprivileged
// builder user (never privileged, every capability dropped, no privilege gain), network off
// (unless the spec asks for the engine's default network: build.network),
// inputs mounted read-only, one writable work mount (and writable cache mounts, e.g. ccache), under
// CPU / memory / shm / pids limits. The full output goes to a log file; the last lines are kept for
// errors and, when `live` is set, streamed to the terminal. The container is always removed: on
// success, failure, timeout, when killed from outside, and on SIGINT/SIGTERM (InterruptGuard).
#pragma once

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "slurm_factory/container_backend.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/toolchain.hpp"

namespace sf {

// "uid:gid" of the builder user every toolchain image's setup script creates (toolchain.hpp).
inline std::string builder_user() {
  return std::to_string(kBuilderUid) + ":" + std::to_string(kBuilderGid);
}

struct HermeticRunSpec {
  std::string image;
  std::string script;         // run with /bin/sh -c
  std::vector<Mount> inputs;  // always mounted read-only
  // Persistent caches mounted read-write (the compiler cache, build.ccache): like the work
  // directory, handed to the builder user when we run as root. Never an input of what is built.
  std::vector<Mount> caches;
  std::filesystem::path work_dir;  // host directory mounted read-write at work_target
  std::string work_target = "/work";
  std::string user = builder_user();
  std::vector<std::string> env;
  double cpus = 0;
  std::int64_t memory_bytes = 0;
  std::int64_t shm_bytes = 0;
  std::int64_t pids_limit = 4096;
  NetworkMode network =
      NetworkMode::kNone;                // kDefault: the engine's default network (build.network)
  Labels labels;                         // added to kManagedLabel and kind=build
  std::chrono::milliseconds timeout{0};  // 0 = none
  std::filesystem::path log_file;        // required: the full output
  std::ostream* live = nullptr;          // where to echo output lines as they come (optional)
  std::size_t tail_lines = 12;
  ErrorContext context;  // package, version, stage: added to every error
  bool check = true;     // throw ContainerError when the script exits non-zero
};

struct HermeticRunResult {
  int exit_code = -1;
  std::filesystem::path log_file;
  std::string container_id;
  std::vector<std::string> tail;  // the last lines of output
  std::chrono::milliseconds elapsed{0};
};

// Throws ContainerError (with spec.context, the image, the log file and the last lines) when the
// container cannot run, times out, is killed or removed from outside, the run is interrupted, or
// (with check) the script fails.
HermeticRunResult run_hermetic(ContainerBackend& backend, const HermeticRunSpec& spec);

// "8g", "512m", "1024k", "123" (bytes) -> bytes. Throws ConfigurationError on anything else.
std::int64_t parse_byte_size(const std::string& text);

}  // namespace sf
