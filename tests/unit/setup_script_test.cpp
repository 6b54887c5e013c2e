// The build image setup script of the toolchain plugins' apt and dnf libraries
// (plugins/toolchains/package_managers): golden files for the eight shipped releases
// (SF_UPDATE_GOLDEN=1 regenerates them), shellcheck and `sh -n` on every rendering, and the apt/dnf
// behaviour.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../support/golden.hpp"
#include "sf_toolchain/apt.hpp"
#include "sf_toolchain/dnf.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/toolchain.hpp"

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<sf::ToolchainRelease> all_shipped() {
  std::vector<sf::ToolchainRelease> out;
  for (const char* family : {"ubuntu", "rocky", "debian"}) {
    const fs::path path =
        fs::path(SF_TEST_SOURCE_DIR) / "plugins/toolchains" / family / "releases.yaml";
    for (auto& r : sf::parse_toolchain_releases(read_file(path), path.string())) {
      out.push_back(std::move(r));
    }
  }
  return out;
}

const sf::ToolchainRelease& shipped(const std::string& name) {
  static const auto releases = all_shipped();
  for (const auto& r : releases) {
    if (r.name == name) return r;
  }
  throw std::runtime_error("no shipped release " + name);
}

struct RunResult {
  int status = -1;
  std::string output;
};

RunResult run(const std::string& command) {
  RunResult result;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return result;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) result.output.append(buf, n);
  const int status = ::pclose(p);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Writes a script to a temporary file that lives as long as the object.
struct TempScript {
  explicit TempScript(const std::string& text, const std::string& name) {
    path =
        fs::temp_directory_path() / ("sf-setup-" + name + "-" + std::to_string(::getpid()) + ".sh");
    std::ofstream(path) << text;
  }
  ~TempScript() { fs::remove(path); }
  fs::path path;
};

// The rendering of the library the release's family plugin links: apt for ubuntu and debian, dnf
// for rocky.
std::string render_setup_script(const sf::ToolchainRelease& release,
                                const std::vector<std::string>& extra = {}) {
  return release.package_manager == sf::PackageManager::kApt
             ? sf::apt::render_setup_script(release, extra)
             : sf::dnf::render_setup_script(release, extra);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const std::vector<std::string> kReleases = {"jammy",       "noble",       "resolute",
                                            "rockylinux8", "rockylinux9", "rockylinux10",
                                            "bookworm",    "trixie"};

std::vector<std::string> all_gpu_packages(const sf::ToolchainRelease& r) {
  std::vector<std::string> out;
  for (const auto& [flavour, pkgs] : r.gpu_packages)
    out.insert(out.end(), pkgs.begin(), pkgs.end());
  return out;
}

}  // namespace

class SetupScriptOfRelease : public ::testing::TestWithParam<std::string> {};

TEST_P(SetupScriptOfRelease, MatchesGoldenFile) {
  const auto& release = shipped(GetParam());
  const std::string script = render_setup_script(release);
  const fs::path golden =
      fs::path(SF_TEST_SOURCE_DIR) / "tests/unit/golden/setup" / (release.name + ".sh");
  if (sf::test::update_golden_files()) {
    fs::create_directories(golden.parent_path());
    std::ofstream(golden) << script;
    GTEST_SKIP() << "regenerated " << golden;
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing: run with SF_UPDATE_GOLDEN=1";
  EXPECT_EQ(script, read_file(golden))
      << "the rendering of " << release.name << " changed; if intended, rerun with "
      << "SF_UPDATE_GOLDEN=1 and review the diff of " << golden;
}

TEST_P(SetupScriptOfRelease, PassesShellcheckAndShSyntax) {
  const auto& release = shipped(GetParam());
  // The plain script and the one with every GPU package (more repositories enabled).
  for (const auto& extra : {std::vector<std::string>{}, all_gpu_packages(release)}) {
    const std::string script = render_setup_script(release, extra);
    TempScript file(script, release.name);
    const auto sc = run("shellcheck --shell=sh --severity=style " + file.path.string());
    EXPECT_EQ(sc.status, 0) << "shellcheck on " << release.name << ":\n"
                            << sc.output << "\n--- script ---\n"
                            << script;
    const auto sh = run("sh -n " + file.path.string());
    EXPECT_EQ(sh.status, 0) << sh.output;
  }
}

TEST_P(SetupScriptOfRelease, IsDeterministicAndCreatesTheBuilder) {
  const auto& release = shipped(GetParam());
  const std::string script = render_setup_script(release);
  EXPECT_EQ(script, render_setup_script(release));
  EXPECT_EQ(script.rfind("#!/bin/sh\n", 0), 0U);
  EXPECT_TRUE(contains(script, "\nset -eu\n"));
  EXPECT_TRUE(contains(script, "groupadd --gid 10001 builder\n"));
  EXPECT_TRUE(contains(script, "useradd --uid 10001 --gid 10001 "));
  EXPECT_FALSE(contains(script, release.origin)) << "origins would change the image hash";
  // Every package of the release is installed, none twice.
  for (const auto& pkg : sf::setup_packages(release)) {
    EXPECT_TRUE(contains(script, "    " + pkg + " \\\n") || contains(script, "    " + pkg + "\n"))
        << pkg;
  }
}

INSTANTIATE_TEST_SUITE_P(Shipped, SetupScriptOfRelease, ::testing::ValuesIn(kReleases),
                         [](const auto& info) { return info.param; });

TEST(SetupScript, AptInstallsWithoutRecommendsAndCleansUp) {
  const std::string s = render_setup_script(shipped("noble"));
  EXPECT_TRUE(contains(s, "export DEBIAN_FRONTEND=noninteractive\n"));
  EXPECT_TRUE(contains(s, "apt-get update\napt-get install -y --no-install-recommends \\\n"));
  EXPECT_TRUE(contains(s, "apt-get clean\nrm -rf /var/lib/apt/lists/*\n"));
  EXPECT_FALSE(contains(s, "dnf"));
  EXPECT_FALSE(contains(s, "build-essential"));
}

TEST(SetupScript, DnfEnablesEpelAndPowertoolsOnRocky8AndCrbOn9And10) {
  const std::string r8 = render_setup_script(shipped("rockylinux8"));
  EXPECT_TRUE(contains(r8, "install \\\n    epel-release \\\n    dnf-plugins-core\n"));
  EXPECT_TRUE(contains(r8, "dnf config-manager --set-enabled powertools\n"));
  EXPECT_TRUE(contains(r8, "--setopt=install_weak_deps=False --setopt=tsflags=nodocs install"));
  EXPECT_TRUE(contains(r8, "dnf clean all\nrm -rf /var/cache/dnf\n"));
  EXPECT_FALSE(contains(r8, "apt-get"));
  for (const char* name : {"rockylinux9", "rockylinux10"}) {
    const std::string s = render_setup_script(shipped(name));
    EXPECT_TRUE(contains(s, "dnf config-manager --set-enabled crb\n")) << name;
    EXPECT_FALSE(contains(s, "powertools")) << name;
    // The repository must be enabled before the packages that need it are installed.
    EXPECT_LT(s.find("--set-enabled crb"), s.find("munge-devel")) << name;
  }
}

TEST(SetupScript, RepositoriesNeededByGpuPackagesOnlyWhenTheyAreInstalled) {
  const auto& trixie = shipped("trixie");
  const std::string plain = render_setup_script(trixie);
  EXPECT_FALSE(contains(plain, "non-free"));
  EXPECT_FALSE(contains(plain, "libnvidia-ml-dev"));
  const std::string cuda = render_setup_script(trixie, trixie.gpu_packages.at("cuda"));
  EXPECT_TRUE(
      contains(cuda, "sf_enable_apt_component contrib\nsf_enable_apt_component non-free\n"));
  EXPECT_TRUE(contains(cuda, "    libnvidia-ml-dev \\\n"));
  EXPECT_LT(cuda.find("sf_enable_apt_component non-free"), cuda.find("apt-get update"));
  const std::string rocm = render_setup_script(trixie, trixie.gpu_packages.at("rocm"));
  EXPECT_FALSE(contains(rocm, "non-free"));
  EXPECT_TRUE(contains(rocm, "librocm-smi-dev"));

  const auto& r9 = shipped("rockylinux9");
  EXPECT_FALSE(contains(render_setup_script(r9), "cuda"));
  const std::string r9cuda = render_setup_script(r9, r9.gpu_packages.at("cuda"));
  EXPECT_TRUE(contains(r9cuda,
                       "dnf config-manager --add-repo https://developer.download.nvidia.com/"
                       "compute/cuda/repos/rhel9/x86_64/cuda-rhel9.repo\n"));
}

TEST(SetupScript, ResoluteSwitchesToGnuCoreutilsAfterInstalling) {
  const std::string s = render_setup_script(shipped("resolute"));
  const auto quirk = s.find("coreutils-from-gnu");
  ASSERT_NE(quirk, std::string::npos);
  EXPECT_GT(quirk, s.find("apt-get install -y --no-install-recommends \\"));
  EXPECT_LT(quirk, s.find("apt-get clean"));
  EXPECT_TRUE(contains(s, "    libxml2-16 \\\n"));
}

TEST(SetupScript, ExtraPackagesAreSortedAndDeduplicated) {
  auto r = shipped("bookworm");
  const auto pkgs = sf::setup_packages(r, {"zzz-extra", "gcc", "aaa-extra"});
  EXPECT_TRUE(std::is_sorted(pkgs.begin(), pkgs.end()));
  EXPECT_EQ(std::count(pkgs.begin(), pkgs.end(), "gcc"), 1);
  EXPECT_EQ(pkgs.front(), "aaa-extra");
  EXPECT_EQ(render_setup_script(r, {"b-pkg", "a-pkg"}),
            render_setup_script(r, {"a-pkg", "b-pkg", "a-pkg"}));
}

TEST(SetupScript, RefusesPackageNamesThatAreNotPlainWords) {
  const auto& r = shipped("bookworm");
  for (const char* bad : {"gcc; rm -rf /", "$(id)", "-y", "a b", ""}) {
    EXPECT_THROW(render_setup_script(r, {bad}), sf::ConfigurationError) << bad;
  }
}

TEST(SetupScript, TextFromReleaseDataCannotBreakOutOfComments) {
  auto r = shipped("bookworm");
  r.os_name = "Evil\nrm -rf /";
  const std::string s = render_setup_script(r);
  EXPECT_FALSE(contains(s, "\nrm -rf /\n"));
  EXPECT_TRUE(contains(s, "Evil rm -rf /"));
}

TEST(SetupScript, EachLibraryRefusesAReleaseOfTheOtherPackageManager) {
  auto r = shipped("bookworm");
  r.package_manager = sf::PackageManager::kDnf;
  try {
    sf::apt::render_setup_script(r);
    FAIL() << "apt rendered a dnf release";
  } catch (const sf::ConfigurationError& e) {
    EXPECT_NE(std::string(e.what()).find("package_manager: dnf"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("family debian"), std::string::npos) << e.what();
    EXPECT_EQ(e.context_value("origin"), r.origin);
  }
  EXPECT_THROW(sf::dnf::render_setup_script(shipped("noble")), sf::ConfigurationError);
}
