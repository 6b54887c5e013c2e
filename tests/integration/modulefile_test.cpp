// The rendered modulefiles under Debian's real Lmod (lmod, the .lua file) and Environment Modules
// (environment-modules, the .tcl file), each in a clean trixie container on docker (an image with
// only that package, curl and openssl over the bootstrapped trixie base, prepared once and reused
// by its hash). The artifact is a stand-in: modulefiles and install script rendered from our
// templates, and a view assembled by our view assembler from stand-in entries whose
// public_programs come from the shipped recipes (slurm's and munge's programs as small scripts,
// and curl's, openssl's and hwloc's programs that must stay out). Unpacked under a random prefix
// with a space in it:
//  - `module use <prefix>/modules; module load slurm` with no variable, with
//    SLURM_INSTALL_PREFIX=<prefix> and with SLURM_INSTALL_PREFIX=<prefix>/view puts
//    <prefix>/view/bin on PATH and `scontrol` is ours; `command -v curl openssl` is unchanged;
//  - SLURM_INSTALL_PREFIX=/nonexistent fails the load (non-zero status) naming the paths tried;
//  - a modulefile copied elsewhere before slurm_install.sh ran fails naming the build prefix it
//    tried; after slurm_install.sh rewrote it, it loads from its place and, copied elsewhere, from
//    the prefix the script wrote into it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "../support/requirement.hpp"
#include "artifact/artifact_assets.hpp"
#include "artifact/view_assembler.hpp"
#include "config/config.hpp"
#include "plugin_host/plugin_host.hpp"
#include "recipes/planner.hpp"
#include "recipes/recipe_book.hpp"
#include "slurm_factory/container_backend.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/toolchain.hpp"
#include "support/template_renderer.hpp"
#include "toolchains/toolchain_catalog.hpp"
#include "toolchains/toolchain_image.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kCacheDir = fs::path(SF_TEST_BINARY_DIR) / "modulefile-test-cache";

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

// A clean trixie image with `package` (lmod or environment-modules), curl and openssl from
// deb.debian.org, on the trixie base image (bootstrapped offline when missing), tagged by the hash
// of this definition: built once, then reused.
sf::ToolchainImageRequest modules_image(const std::string& package) {
  sf::ToolchainRelease r = catalog().get("trixie");
  r.name = "modtest-" + package;
  r.build_tools = {{"modules", {package, "curl", "openssl"}}};
  r.dev_packages.clear();
  r.repositories.clear();
  r.quirks.clear();
  r.origin = "modulefile_test";
  sf::ToolchainImageRequest req;
  req.release = r;
  req.bootstrap = catalog().bootstrap_recipe("trixie");
  req.family = catalog().shared_family_of("trixie");
  req.setup_script =
      "#!/bin/sh\n"
      "set -eu\n"
      "export DEBIAN_FRONTEND=noninteractive\n"
      "apt-get update\n"
      "apt-get install -y --no-install-recommends " +
      package +
      " curl openssl\n"
      "apt-get clean\n"
      "rm -rf /var/lib/apt/lists/*\n";
  req.cache_dir = kCacheDir;
  req.try_pull = false;
  return req;
}

void write(const fs::path& p, const std::string& text, fs::perms mode = fs::perms(0644)) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
  fs::permissions(p, mode, fs::perm_options::replace);
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One stand-in entry tree: each program a script that says whose it is.
fs::path stand_in_entry(const fs::path& dir, const std::string& name,
                        const std::vector<std::string>& programs) {
  const fs::path tree = dir / "entries" / name;
  for (const auto& p : programs) {
    write(tree / p, "#!/bin/sh\necho \"stand-in " + fs::path(p).filename().string() + "\"\n",
          fs::perms(0755));
  }
  return tree;
}

// The job inside the container; every check prints "<case> <what>=<value>" on stdout.
constexpr const char* kScript = R"SH(
set -u
P="/opt/site $(od -An -N4 -tx4 /dev/urandom | tr -d ' ')/slurm 24.11"
mkdir -p "$(dirname "$P")"
cp -a /work/art "$P"
echo "prefix=$P"
echo "before curl=$(command -v curl) openssl=$(command -v openssl)"
# load_case NAME MODULE_DIR [SLURM_INSTALL_PREFIX]: module use, module load slurm, the results.
load_case() (
  name=$1
  dir=$2
  if [ $# -ge 3 ]; then export SLURM_INSTALL_PREFIX="$3"; else unset SLURM_INSTALL_PREFIX; fi
  module use "$dir"
  module load slurm >/tmp/load.out 2>&1
  echo "$name rc=$?"
  echo "$name scontrol=$(command -v scontrol)"
  case ":$PATH:" in *":$P/view/bin:"*) echo "$name path_has_bin=yes" ;; *) echo "$name path_has_bin=no" ;; esac
  echo "$name curl=$(command -v curl) openssl=$(command -v openssl)"
  echo "$name ran=$(scontrol 2>&1 | head -n1)"
  echo "$name said=$(tr -s ' \n' '  ' </tmp/load.out)"
)
load_case none "$P/modules"
load_case root "$P/modules" "$P"
load_case view "$P/modules" "$P/view"
load_case view_slash "$P/modules" "$P/view/"
load_case bad "$P/modules" /nonexistent
# A modulefile copied elsewhere before the install script named the prefix in it.
mkdir -p /srv/untouched/slurm && cp "$P"/modules/slurm/* /srv/untouched/slurm/
load_case untouched_copy /srv/untouched
# The install script rewrites the baked prefix; the module still finds itself, and a copy of it
# elsewhere finds the prefix the script wrote.
bash "$P/data/slurm_assets/slurm_install.sh" >/tmp/install.out 2>&1
echo "install rc=$?"
load_case installed "$P/modules"
mkdir -p /srv/site/slurm && cp "$P"/modules/slurm/* /srv/site/slurm/
load_case installed_copy /srv/site
)SH";

// The value of "<key>=" on its line of `log` ("" when missing).
std::string field(const std::string& log, const std::string& key) {
  const std::string needle = key + "=";
  std::size_t pos = 0;
  while ((pos = log.find(needle, pos)) != std::string::npos) {
    if (pos == 0 || log[pos - 1] == '\n') {
      const std::size_t start = pos + needle.size();
      return log.substr(start, log.find('\n', start) - start);
    }
    pos += needle.size();
  }
  return "";
}

}  // namespace

class ModulefileTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ModulefileTest, FindsItsOwnInstallationAndShadowsNoSystemTool) {
  const std::string package = GetParam();
  auto backend = host().make_container_backend("docker", nlohmann::json::object());
  try {
    backend->info();
  } catch (const sf::ContainerError& e) {
    SF_REQUIRE_OR_SKIP("docker does not answer: " << e.what());
  }
  const auto image = sf::prepare_toolchain_image(*backend, modules_image(package));

  const fs::path work =
      fs::temp_directory_path() / ("sf-modulefile-it-" + package + "-" + std::to_string(getpid()));
  fs::remove_all(work);
  const fs::path art = work / "art";
  sf::ArtifactInfo info{"24.11.5", "trixie", "debian",     "Debian GNU/Linux 13 (trixie)",
                        "amd64",   {},       "/opt/slurm", "0.1.0"};
  sf::render_artifact_assets(info, art,
                             sf::TemplateRenderer(fs::path(SF_TEST_SOURCE_DIR) / "templates"));

  // The stand-in view, assembled with the shipped recipes' public_programs.
  sf::PlanRequest preq;
  preq.slurm_version = "24.11.5";
  preq.toolchain = catalog().get("trixie");
  preq.toolchain_image_hash = "sha256:stand-in";
  const sf::Plan plan = sf::make_plan(
      sf::RecipeBook::load_directory(fs::path(SF_TEST_SOURCE_DIR) / "configs" / "recipes"), preq);
  const std::vector<std::pair<std::string, std::vector<std::string>>> programs = {
      {"slurm", {"bin/scontrol", "bin/sinfo", "bin/srun", "sbin/slurmd", "sbin/slurmctld"}},
      {"munge", {"bin/munge", "bin/unmunge", "bin/remunge", "sbin/munged"}},
      {"curl", {"bin/curl", "bin/wcurl", "bin/curl-config"}},
      {"openssl", {"bin/openssl", "bin/c_rehash"}},
      {"hwloc", {"bin/lstopo", "bin/hwloc-ls"}}};
  std::vector<sf::ViewEntry> entries;
  for (const auto& [name, files] : programs) {
    const sf::PackageSpec* spec = plan.find(name);
    ASSERT_NE(spec, nullptr) << name << " is not in the plan of the shipped recipes";
    entries.push_back(
        {name, spec->version, stand_in_entry(work, name, files), spec->public_programs});
  }
  write(work / "entries/slurm/share/man/man1/sinfo.1", ".TH sinfo 1\n");
  sf::ViewAssemblyOptions vo;
  vo.system_libraries = {"*"};
  const auto report = sf::assemble_view(entries, art / "view", vo);
  EXPECT_EQ(report.private_files.size(), 7u) << report.to_json().dump(2);

  sf::ContainerSpec c;
  c.image = image.tag;
  write(work / "check.sh", kScript, fs::perms(0755));
  c.command = {"/bin/bash", "-l", "/work/check.sh"};
  c.user = "0:0";
  c.mounts = {{work, "/work", true}};
  c.memory_bytes = 512LL * 1024 * 1024;
  c.pids_limit = 512;
  c.network = sf::NetworkMode::kNone;
  c.labels = {{"org.slurm-factory.test", "modulefile"}};
  const std::string id = backend->create_container(c);
  std::string log;
  int exit_code = -1;
  try {
    backend->start_container(id);
    backend->stream_logs(
        id, [&](sf::Stream, std::string_view d) { log.append(d); }, std::chrono::minutes(5));
    exit_code = backend->wait_container(id, std::chrono::seconds(60)).exit_code;
  } catch (...) {
    backend->remove_container(id, true);
    fs::remove_all(work);
    throw;
  }
  backend->remove_container(id, true);
  fs::remove_all(work);
  ASSERT_EQ(exit_code, 0) << log;

  const std::string prefix = field(log, "prefix");
  ASSERT_EQ(prefix.rfind("/opt/site ", 0), 0u) << log;
  const std::string before = field(log, "before curl");
  ASSERT_EQ(before, "/usr/bin/curl openssl=/usr/bin/openssl") << "the image lacks curl/openssl\n"
                                                              << log;

  for (const char* name : {"none", "root", "view", "view_slash", "installed", "installed_copy"}) {
    const std::string n = name;
    EXPECT_EQ(field(log, n + " rc"), "0") << n << "\n" << log;
    EXPECT_EQ(field(log, n + " path_has_bin"), "yes") << n << "\n" << log;
    EXPECT_EQ(field(log, n + " scontrol"), prefix + "/view/bin/scontrol") << n << "\n" << log;
    EXPECT_EQ(field(log, n + " ran"), "stand-in scontrol") << n << "\n" << log;
    EXPECT_EQ(field(log, n + " curl"), before) << n << ": loading slurm changed curl/openssl\n"
                                               << log;
  }
  EXPECT_EQ(field(log, "install rc"), "0") << log;

  // A wrong SLURM_INSTALL_PREFIX fails loudly, naming both conventions' paths.
  EXPECT_NE(field(log, "bad rc"), "0") << log;
  EXPECT_EQ(field(log, "bad path_has_bin"), "no") << log;
  EXPECT_EQ(field(log, "bad curl"), before) << log;
  const std::string bad = field(log, "bad said");
  EXPECT_NE(bad.find("/nonexistent/view/bin/scontrol"), std::string::npos) << bad;
  EXPECT_NE(bad.find("/nonexistent/bin/scontrol"), std::string::npos) << bad;
  EXPECT_NE(bad.find("SLURM_INSTALL_PREFIX"), std::string::npos) << bad;

  // Copied away before slurm_install.sh (to /srv/untouched/slurm/: its own root is /srv): its own
  // place and the build prefix, both named.
  EXPECT_NE(field(log, "untouched_copy rc"), "0") << log;
  EXPECT_EQ(field(log, "untouched_copy path_has_bin"), "no") << log;
  const std::string untouched = field(log, "untouched_copy said");
  EXPECT_NE(untouched.find("/srv/view/bin/scontrol"), std::string::npos) << untouched;
  EXPECT_NE(untouched.find("/opt/slurm/view/bin/scontrol"), std::string::npos) << untouched;
}

INSTANTIATE_TEST_SUITE_P(DebianModuleSystems, ModulefileTest,
                         ::testing::Values("lmod", "environment-modules"), [](const auto& info) {
                           std::string n = info.param;
                           for (auto& ch : n) ch = ch == '-' ? '_' : ch;
                           return n;
                         });
