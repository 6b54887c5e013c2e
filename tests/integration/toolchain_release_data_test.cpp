// The shipped Debian release data against the real world (the Debian mirror and dockerd):
//  - every system library a release lists is in a minimal rootfs of that release
//    (mmdebstrap --variant=minbase), and the libraries Slurm's dependencies bring are not;
//  - the rendered setup script, with every GPU package of the release, builds a real toolchain
//    image, whose compiler and C library are the ones the data names, whose builder user compiles
//    and links against the -dev packages, and which has the GPU headers.
// Ubuntu and Rocky base images come from a registry this machine cannot reach; their scripts are
// covered by the golden and shellcheck unit tests only.
#include <fnmatch.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "../support/requirement.hpp"
#include "containers/hermetic_runner.hpp"
#include "plugin_host/plugin_host.hpp"
#include "slurm_factory/errors.hpp"
#include "toolchains/toolchain_catalog.hpp"
#include "toolchains/toolchain_image.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kCacheDir = fs::path(SF_TEST_BINARY_DIR) / "toolchain-release-data-cache";

sf::PluginHost& host() {
  static sf::PluginHost h;
  static std::once_flag once;
  std::call_once(once, [] {
    h.load_file(fs::path(SF_TEST_PLUGIN_DIR) / "libsf-toolchain-debian.so");
    h.load_file(fs::path(SF_TEST_PLUGIN_DIR) / "libsf-backend-docker.so");
  });
  return h;
}

const sf::ToolchainCatalog& catalog() {
  static const sf::ToolchainCatalog c = sf::make_toolchain_catalog(host(), sf::Config{});
  return c;
}

struct RunResult {
  int status = -1;
  std::string output;
};

RunResult run(const std::string& command) {
  RunResult result;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return result;
  char buf[8192];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) result.output.append(buf, n);
  const int status = ::pclose(p);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A minimal rootfs of the release, made once with its bootstrap recipe and kept between runs.
fs::path minimal_rootfs(const sf::ToolchainRelease& release) {
  const auto recipe = catalog().bootstrap_recipe(release.name);
  if (!recipe) throw std::runtime_error(release.name + " has no bootstrap recipe");
  fs::create_directories(kCacheDir);
  const fs::path tarball = kCacheDir / (release.name + "-" + recipe->variant + ".tar");
  if (fs::is_regular_file(tarball)) return tarball;
  fs::remove_all(tarball);
  const fs::path partial = tarball.string() + ".partial-" + std::to_string(::getpid());
  std::string components;
  for (const auto& c : recipe->components) components += (components.empty() ? "" : ",") + c;
  const auto r = run("mmdebstrap --quiet --format=tar --variant=" + recipe->variant +
                     " --components=" + components + " " + recipe->suite + " " + partial.string() +
                     " " + recipe->mirror);
  if (r.status != 0) {
    fs::remove_all(partial);
    throw std::runtime_error("mmdebstrap failed:\n" + r.output);
  }
  fs::rename(partial, tarball);
  return tarball;
}

// Basenames of the files in the library directories of a rootfs tarball.
std::set<std::string> libraries_in(const fs::path& tarball) {
  const auto r = run("tar -tf " + tarball.string());
  EXPECT_EQ(r.status, 0) << r.output;
  std::set<std::string> out;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    for (const char* dir :
         {"./usr/lib/x86_64-linux-gnu/", "./lib/x86_64-linux-gnu/", "./lib64/", "./usr/lib64/"}) {
      const std::string d = dir;
      if (line.rfind(d, 0) == 0 && line.find('/', d.size()) == std::string::npos) {
        out.insert(line.substr(d.size()));
      }
    }
  }
  return out;
}

std::vector<std::string> all_gpu_packages(const sf::ToolchainRelease& r) {
  std::vector<std::string> out;
  for (const auto& [flavour, pkgs] : r.gpu_packages)
    out.insert(out.end(), pkgs.begin(), pkgs.end());
  return out;
}

}  // namespace

class DebianReleaseData : public ::testing::TestWithParam<std::string> {};

TEST_P(DebianReleaseData, SystemLibrariesAreThoseOfAMinimalRootfs) {
  const auto& release = catalog().get(GetParam());
  const auto libs = libraries_in(minimal_rootfs(release));
  ASSERT_GT(libs.size(), 20U);
  for (const auto& soname : release.system_libraries) {
    const bool found = std::any_of(libs.begin(), libs.end(), [&](const std::string& f) {
      return f == soname || ::fnmatch(soname.c_str(), f.c_str(), 0) == 0;
    });
    EXPECT_TRUE(found) << release.name << " lists " << soname
                       << " as a system library, but a minimal rootfs does not have it";
  }
  // What Slurm's dependencies bring is not there: an artifact must carry it.
  for (const char* soname : {"libmunge.so.2", "libjson-c.so.5", "libdbus-1.so.3",
                             "libreadline.so.8", "libcurl.so.4", "libhwloc.so.15"}) {
    EXPECT_EQ(libs.count(soname), 0U) << soname;
    EXPECT_FALSE(sf::is_system_library(release, soname)) << soname;
  }
}

TEST_P(DebianReleaseData, SetupScriptBuildsAWorkingToolchainImage) {
  auto backend = host().make_container_backend("docker", nlohmann::json::object());
  try {
    backend->info();
  } catch (const sf::ContainerError& e) {
    SF_REQUIRE_OR_SKIP("docker does not answer: " << e.what());
  }
  const auto& release = catalog().get(GetParam());
  sf::ToolchainImageRequest req;
  req.release = release;
  req.extra_packages = all_gpu_packages(release);
  req.setup_script = catalog().setup_script(release.name, req.extra_packages);
  req.bootstrap = catalog().bootstrap_recipe(release.name);
  req.family = catalog().shared_family_of(release.name);
  req.cache_dir = kCacheDir;
  req.try_pull = false;  // no registry here: the offline bootstrap is the base
  req.progress = [](std::string_view line) {
    if (line.rfind("slurm-factory:", 0) == 0) std::cerr << line << "\n";
  };
  const auto image = sf::prepare_toolchain_image(*backend, req);
  if (!image.reused) {
    const std::string log = read_file(image.log_file);
    EXPECT_NE(log.find("slurm-factory: " + release.name + " has gcc " + release.gcc_version),
              std::string::npos)
        << image.log_file;
    EXPECT_EQ(log.find("warning: release data says"), std::string::npos) << image.log_file;
  }

  // As the builder user, with the network off: versions, GPU headers, a program linked against
  // the -dev packages of Slurm's features.
  const fs::path work =
      fs::temp_directory_path() / ("sf-release-data-" + std::to_string(::getpid()));
  fs::create_directories(work);
  sf::HermeticRunSpec spec;
  spec.image = image.tag;
  spec.work_dir = work;
  spec.log_file = work / "check.log";
  spec.script =
      "set -eu\n"
      "echo \"user $(id -un) $(id -u):$(id -g)\"\n"
      "echo \"gcc $(gcc -dumpfullversion)\"\n"
      "echo \"libc $(getconf GNU_LIBC_VERSION)\"\n"
      "for h in /usr/include/nvml.h /usr/include/rocm_smi/rocm_smi.h "
      "/usr/include/level_zero/ze_api.h; do test -f \"$h\" && echo \"header $h\"; done\n"
      "cat > /work/t.c <<'EOF'\n"
      "#include <munge.h>\n#include <json-c/json.h>\n#include <yaml.h>\n#include <lz4.h>\n"
      "#include <hwloc.h>\n#include <pmix.h>\n#include <curl/curl.h>\n#include <jwt.h>\n"
      "#include <http_parser.h>\n#include <security/pam_appl.h>\n#include <mysql.h>\n"
      "#include <numa.h>\n#include <librdkafka/rdkafka.h>\n#include <readline/readline.h>\n"
      "#include <dbus/dbus.h>\n#include <lua.h>\n"
      "int main(void) { return munge_strerror(EMUNGE_SUCCESS) == 0; }\n"
      "EOF\n"
      "gcc $(pkg-config --cflags lua5.4 libmariadb dbus-1 pmix) /work/t.c -o /work/t -lmunge && "
      "/work/t && echo linked\n";
  const auto result = sf::run_hermetic(*backend, spec);
  const std::string out = read_file(spec.log_file);
  fs::remove_all(work);
  EXPECT_EQ(result.exit_code, 0) << out;
  EXPECT_NE(out.find("user builder 10001:10001"), std::string::npos) << out;
  EXPECT_NE(out.find("gcc " + release.gcc_version + "."), std::string::npos) << out;
  EXPECT_NE(out.find("libc glibc " + release.glibc_version), std::string::npos) << out;
  for (const char* h : {"/usr/include/nvml.h", "/usr/include/rocm_smi/rocm_smi.h",
                        "/usr/include/level_zero/ze_api.h"}) {
    EXPECT_NE(out.find(std::string("header ") + h), std::string::npos) << h << "\n" << out;
  }
  EXPECT_NE(out.find("linked"), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(Shipped, DebianReleaseData, ::testing::Values("bookworm", "trixie"),
                         [](const auto& info) { return info.param; });
