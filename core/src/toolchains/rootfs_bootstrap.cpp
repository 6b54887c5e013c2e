#include "toolchains/rootfs_bootstrap.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "recipes/package_hash.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "support/strings.hpp"

namespace bp = boost::process;

namespace sf {
namespace {

// Runs a tool, sending each output line to the log file and `progress`. Returns its exit code.
// Closes every descriptor above stderr in the child, after the redirections above it in the
// argument list have made stdout and stderr the pipe. (Boost 1.74's bp::limit_handles closes the
// pipe too when stdout and stderr share it: the tool's output never reached the log, and a tool
// writing to stdout got EBADF.)
struct CloseDescriptorsAboveStderr : bp::extend::handler {
  template <typename Executor>
  void on_exec_setup(Executor& /*executor*/) const {
    if (::close_range(3, ~0U, 0) == 0) return;
    const long max = ::sysconf(_SC_OPEN_MAX);
    for (int fd = 3; fd < (max > 0 ? max : 1024); ++fd) ::close(fd);
  }
};

int run_logged(const std::vector<std::string>& argv, const std::filesystem::path& log_file,
               const ProgressSink& progress) {
  std::ofstream log(log_file, std::ios::app);
  log << "$ " << join(argv, " ") << "\n";
  bp::ipstream out;
  const auto exe = bp::search_path(argv.front());
  if (exe.empty())
    throw std::system_error(std::make_error_code(std::errc::no_such_file_or_directory),
                            argv.front());
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  // Only stdin/out/err are inherited: mmdebstrap hands fds to dash, which cannot use fds above 9.
  bp::child child(exe, bp::args(args), (bp::std_out & bp::std_err) > out, bp::std_in < bp::null,
                  CloseDescriptorsAboveStderr{});
  std::string line;
  while (std::getline(out, line)) {
    log << line << "\n";
    if (progress) progress(line);
  }
  child.wait();
  return child.exit_code();
}

// "neither a nor b is installed", "a is not installed", "none of a, b, c is installed".
std::string none_installed(const std::vector<std::string>& tools) {
  if (tools.size() == 1) return tools.front() + " is not installed";
  if (tools.size() == 2) return "neither " + tools[0] + " nor " + tools[1] + " is installed";
  return "none of " + join(tools, ", ") + " is installed";
}

}  // namespace

std::string bootstrap_recipe_hash(const BootstrapRecipe& r, const std::string& arch) {
  nlohmann::json j{{"tool", r.tool},
                   {"variant", r.variant},
                   {"suite", r.suite},
                   {"mirror", r.mirror},
                   {"components", r.components},
                   {"packages", r.extra_packages},
                   {"arch", arch},
                   {"format", 1}};
  return sha256_hex(j.dump());
}

std::filesystem::path bootstrap_rootfs(const ToolchainFamily& family, const BootstrapRecipe& recipe,
                                       const std::string& arch,
                                       const std::filesystem::path& cache_dir,
                                       const ProgressSink& progress) {
  const std::string hash = bootstrap_recipe_hash(recipe, arch);
  const auto dir = cache_dir / "bootstrap";
  const auto tarball = dir / (recipe.suite + "-" + arch + "-" + hash.substr(0, 12) + ".tar");
  std::error_code ec;
  if (std::filesystem::exists(tarball, ec)) {
    log().info("bootstrap: reusing cached rootfs {}", tarball.string());
    return tarball;
  }
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw ContainerError("cannot create the bootstrap cache directory",
                         {{"directory", dir.string()}, {"error", ec.message()}});
  }
  const auto log_file = dir / (recipe.suite + "-" + arch + "-" + hash.substr(0, 12) + ".log");
  std::filesystem::remove(log_file, ec);
  const auto tmp = dir / (tarball.filename().string() + ".tmp." + std::to_string(::getpid()));
  const auto work_dir = dir / (recipe.suite + "-root." + std::to_string(::getpid()));
  ErrorContext ctx{
      {"suite", recipe.suite}, {"mirror", recipe.mirror}, {"log file", log_file.string()}};

  const auto plan = family.rootfs_bootstrap(recipe, arch, tmp.string(), work_dir.string());
  if (!plan || plan->methods.empty()) {
    ctx.emplace_back("family", family.name());
    throw ContainerError("cannot bootstrap a base image: toolchain family '" + family.name() +
                             "' has no way to make one",
                         ctx,
                         "make the base image available (pull it, or load it with the engine's "
                         "own tools) and run again");
  }
  const RootfsBootstrapMethod* method = nullptr;
  std::vector<std::string> tools;
  for (const auto& m : plan->methods) {
    tools.push_back(m.tool);
    if (method == nullptr && !bp::search_path(m.tool).empty()) method = &m;
  }
  if (method == nullptr) {
    throw ContainerError("cannot bootstrap a base image: " + none_installed(tools), ctx,
                         plan->install_hint);
  }
  int rc = 0;
  try {
    log().info("bootstrap: {} {} from {} ({})", method->tool, recipe.suite, recipe.mirror,
               method->duration);
    for (const auto& argv : method->commands) {
      if (argv.empty()) continue;
      rc = run_logged(argv, log_file, progress);
      if (rc != 0) break;
    }
  } catch (const std::system_error& e) {
    std::filesystem::remove(tmp, ec);
    for (const auto& s : method->scratch) std::filesystem::remove_all(s, ec);
    ctx.emplace_back("error", e.what());
    throw ContainerError("cannot run " + method->tool, ctx);
  }
  for (const auto& s : method->scratch) std::filesystem::remove_all(s, ec);
  if (rc != 0) {
    std::filesystem::remove(tmp, ec);
    ctx.emplace_back("tool", method->tool);
    ctx.emplace_back("exit code", std::to_string(rc));
    throw ContainerError("bootstrapping the base rootfs failed", ctx,
                         "read the log file; check that the mirror is reachable and has the suite");
  }
  std::filesystem::rename(tmp, tarball, ec);
  if (ec) {
    throw ContainerError("cannot move the bootstrapped rootfs into the cache",
                         {{"file", tarball.string()}, {"error", ec.message()}});
  }
  return tarball;
}

}  // namespace sf
