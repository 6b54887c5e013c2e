#include "toolchains/rootfs_bootstrap.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/handles.hpp>
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
int run_logged(const std::vector<std::string>& argv, const std::filesystem::path& log_file,
               const ProgressSink& progress) {
  std::ofstream log(log_file, std::ios::app);
  log << "$ " << join(argv, " ") << "\n";
  bp::ipstream out;
  const auto exe = bp::search_path(argv.front());
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  // Only stdin/out/err are inherited: mmdebstrap hands fds to dash, which cannot use fds above 9.
  bp::child child(exe, bp::args(args), (bp::std_out & bp::std_err) > out, bp::std_in < bp::null,
                  bp::limit_handles);
  std::string line;
  while (std::getline(out, line)) {
    log << line << "\n";
    if (progress) progress(line);
  }
  child.wait();
  return child.exit_code();
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

std::filesystem::path bootstrap_rootfs(const BootstrapRecipe& recipe, const std::string& arch,
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
  const std::string components =
      join(recipe.components.empty() ? std::vector<std::string>{"main"} : recipe.components, ",");
  ErrorContext ctx{
      {"suite", recipe.suite}, {"mirror", recipe.mirror}, {"log file", log_file.string()}};

  const std::string variant = recipe.variant.empty() ? "minbase" : recipe.variant;
  const bool have_mmdebstrap = !bp::search_path("mmdebstrap").empty();
  const bool have_debootstrap = !bp::search_path("debootstrap").empty();
  int rc = -1;
  std::string tool;
  try {
    if ((recipe.tool.empty() || recipe.tool == "mmdebstrap") && have_mmdebstrap) {
      tool = "mmdebstrap";
      std::vector<std::string> argv{"mmdebstrap", "--variant=" + variant, "--format=tar",
                                    "--architectures=" + arch, "--components=" + components};
      if (!recipe.extra_packages.empty())
        argv.push_back("--include=" + join(recipe.extra_packages, ","));
      argv.insert(argv.end(), {recipe.suite, tmp.string(), recipe.mirror});
      log().info("bootstrap: mmdebstrap {} from {} (a minute or two)", recipe.suite, recipe.mirror);
      rc = run_logged(argv, log_file, progress);
    } else if (have_debootstrap) {
      tool = "debootstrap";
      const auto root = dir / (recipe.suite + "-root." + std::to_string(::getpid()));
      std::vector<std::string> argv{"debootstrap", "--variant=" + variant, "--arch=" + arch,
                                    "--components=" + components};
      if (!recipe.extra_packages.empty())
        argv.push_back("--include=" + join(recipe.extra_packages, ","));
      argv.insert(argv.end(), {recipe.suite, root.string(), recipe.mirror});
      log().info("bootstrap: debootstrap {} from {} (a few minutes)", recipe.suite, recipe.mirror);
      rc = run_logged(argv, log_file, progress);
      if (rc == 0) {
        rc = run_logged({"tar", "--numeric-owner", "-C", root.string(), "-cf", tmp.string(), "."},
                        log_file, progress);
      }
      std::filesystem::remove_all(root, ec);
    } else {
      throw ContainerError(
          "cannot bootstrap a base image: neither mmdebstrap nor debootstrap is "
          "installed",
          ctx, "apt-get install mmdebstrap (or debootstrap)");
    }
  } catch (const std::system_error& e) {
    std::filesystem::remove(tmp, ec);
    ctx.emplace_back("error", e.what());
    throw ContainerError("cannot run " + tool, ctx);
  }
  if (rc != 0) {
    std::filesystem::remove(tmp, ec);
    ctx.emplace_back("tool", tool);
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
