#include "build/debug_bundle.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "build/build_script.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "slurm_factory/shell_quote.hpp"
#include "support/safe_walk.hpp"
#include "support/strings.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

// What the host reads of what a build leaves in its work folder: .stage (a step name) and each
// file of a debug bundle (config.log and the like, cut at this size).
constexpr std::uint64_t kStageFileCap = 256;
constexpr std::uint64_t kBundleFileCap = 64ULL << 20;

}  // namespace

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "    " + l + "\n";
  return out;
}

std::string failed_stage(const fs::path& work) {
  auto text = read_file_beneath(work, ".stage", kStageFileCap);
  if (!text) return text.error().kind == Failure::Kind::kNotFound ? "unpack" : "unknown";
  const std::string stage(trim_end(*text, "\n "));
  if (stage.empty()) return "unpack";
  const bool name = std::all_of(stage.begin(), stage.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
  return name && stage.size() <= 32 ? stage : "unknown";
}

DebugBundle write_debug_bundle(const BuildExecutorOptions& options, const PackageSpec& spec,
                               const fs::path& bundle, const fs::path& work, const fs::path& deps,
                               const std::vector<Mount>& extra, const fs::path& log,
                               const std::string& stage, const std::string& script_name) {
  DebugBundle out;
  std::error_code ec;
  fs::create_directories(bundle, ec);
  fs::copy_file(log, bundle / "build.log", fs::copy_options::overwrite_existing, ec);
  for (const std::string& rel :
       {script_name, std::string("src/config.log"), std::string("build/config.log"),
        std::string("build/CMakeFiles/CMakeConfigureLog.yaml"),
        std::string("build/CMakeFiles/CMakeError.log"),
        std::string("build/meson-logs/meson-log.txt")}) {
    auto copied = copy_file_beneath(work, rel, bundle / fs::path(rel).filename(), kBundleFileCap);
    if (copied) {
      if (copied->truncated) {
        sf::log().warn("{}: only the first {} bytes of {} are in the debug bundle", spec.name,
                       kBundleFileCap, rel);
      }
      continue;
    }
    if (copied.error().kind == Failure::Kind::kNotFound) continue;
    out.not_copied += (out.not_copied.empty() ? "" : "\n") + copied.error().message;
  }
  std::vector<std::string> cmd{options.backend_command,
                               "run",
                               "--rm",
                               "-it",
                               "--user",
                               builder_user(),
                               "--cap-drop",
                               "ALL",
                               "--security-opt",
                               "no-new-privileges",
                               "-v",
                               work.string() + ":/work"};
  // The same network as the step had (build.network: the engine's default network).
  if (!options.network || stage == "relocate") cmd.insert(cmd.begin() + 4, {"--network", "none"});
  for (const auto& m : extra) {
    cmd.push_back("-v");
    cmd.push_back(m.source.string() + ":" + m.target + ":ro");
  }
  cmd.push_back("-v");
  cmd.push_back(deps.string() + ":" + spec.prefix + ":ro");
  if (stage == "configure" || stage == "build" || stage == "install") {
    cmd.push_back("-e");
    cmd.push_back("SF_ONLY_STAGE=" + stage);
  }
  cmd.insert(cmd.end(), {"-w", "/work", options.image, "/bin/sh", "/work/" + script_name});
  const std::string rerun = shell_join(cmd);
  write_text(bundle / "rerun.sh",
             "#!/bin/sh\n# Reruns the '" + stage + "' step of " + spec.name + " " + spec.version +
                 " in the state the failed build left in " + work.string() + ".\n" + rerun + "\n");
  fs::permissions(bundle / "rerun.sh", fs::perms::owner_exec | fs::perms::group_exec,
                  fs::perm_options::add, ec);
  out.rerun = rerun;
  return out;
}

void fail_step(const PackageSpec& spec, const std::string& stage, int exit_code,
               const std::vector<std::string>& tail, const fs::path& log, const fs::path& bundle,
               const DebugBundle& debug) {
  const std::string& rerun = debug.rerun;
  BuildError e(spec.name + " " + spec.version + ": the " + stage + " step failed (exit " +
                   std::to_string(exit_code) + "); last " + std::to_string(tail.size()) +
                   " lines of the log:\n" + join_lines(tail),
               {{"package", spec.name},
                {"version", spec.version},
                {"stage", stage},
                {"log file", log.string()},
                {"debug bundle", bundle.string()},
                {"rerun", rerun}},
               "read the log and config.log in the debug bundle; fix the recipe (" +
                   recipe_to_fix(spec) +
                   ") and run again, or rerun the step with the command above to investigate");
  if (!debug.not_copied.empty()) e.with("not copied", debug.not_copied);
  throw e;
}

// Extracts a known entry under `destination` through the verifying unpack (signature,
// manifest, the tarball's sha256 and every file against the manifest, nothing left on a

}  // namespace sf
