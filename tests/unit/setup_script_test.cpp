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

// A cross build (issue 17): what the core hands the family for `--arch arm64` on an amd64 host.
sf::ToolchainRelease cross(const std::string& name, const std::string& target = "arm64") {
  auto r = shipped(name);
  r.build_arch = "amd64";
  r.arch = target;
  return r;
}

class CrossSetupScriptOfRelease : public ::testing::TestWithParam<std::string> {};

TEST_P(CrossSetupScriptOfRelease, MatchesGoldenFileAndPassesShellcheck) {
  const auto release = cross(GetParam());
  const std::string script = render_setup_script(release);
  const fs::path golden =
      fs::path(SF_TEST_SOURCE_DIR) / "tests/unit/golden/setup" / (release.name + "-cross-arm64.sh");
  if (sf::test::update_golden_files()) {
    std::ofstream(golden) << script;
    GTEST_SKIP() << "regenerated " << golden;
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing: run with SF_UPDATE_GOLDEN=1";
  EXPECT_EQ(script, read_file(golden)) << "rerun with SF_UPDATE_GOLDEN=1 and review " << golden;
  TempScript file(script, release.name + "-cross");
  const auto sc = run("shellcheck --shell=sh --severity=style " + file.path.string());
  EXPECT_EQ(sc.status, 0) << sc.output;
}

// Whether the install line lists `pkg` (one argument per continued line).
bool installs(const std::string& script, const std::string& pkg) {
  return contains(script, "\n    " + pkg + " \\\n") || contains(script, "\n    " + pkg + "\n");
}

TEST_P(CrossSetupScriptOfRelease,
       AddsTheTargetArchitectureAndInstallsItsLibrariesBesideNativeTools) {
  const auto release = cross(GetParam());
  const std::string s = render_setup_script(release);
  const auto add = s.find("dpkg --add-architecture arm64\n");
  ASSERT_NE(add, std::string::npos) << s;
  EXPECT_LT(add, s.find("apt-get update")) << "the architecture must be known before the update";
  EXPECT_TRUE(installs(s, "crossbuild-essential-arm64")) << s;
  // Every -dev package is the target's, every build tool the host's.
  for (const auto& [name, pkgs] : release.dev_packages) {
    for (const auto& p : pkgs) {
      EXPECT_TRUE(installs(s, p + ":arm64")) << p;
      EXPECT_FALSE(installs(s, p)) << p << " is a library of the target";
    }
  }
  for (const auto& [tool, pkgs] : release.build_tools) {
    for (const auto& p : pkgs) {
      EXPECT_TRUE(installs(s, p)) << p;
      EXPECT_FALSE(installs(s, p + ":arm64")) << p << " must run on the host";
    }
  }
  // A GPU feature's packages are libraries of the target too.
  const std::string gpu = render_setup_script(release, {"libnvidia-ml-dev"});
  EXPECT_TRUE(installs(gpu, "libnvidia-ml-dev:arm64")) << gpu;
  EXPECT_TRUE(contains(gpu, "sf_enable_apt_component non-free")) << gpu;
  const auto pkgs = sf::apt::setup_packages(release, {});
  EXPECT_NE(std::find(pkgs.begin(), pkgs.end(), "libmunge-dev:arm64"), pkgs.end());
  EXPECT_EQ(std::find(pkgs.begin(), pkgs.end(), "libmunge-dev"), pkgs.end());
}

INSTANTIATE_TEST_SUITE_P(Debian, CrossSetupScriptOfRelease,
                         ::testing::Values(std::string("bookworm"), std::string("trixie")),
                         [](const auto& info) { return info.param; });

TEST(SetupScript, ANativeBuildRendersAsBefore) {
  auto r = shipped("trixie");
  r.build_arch = r.arch;  // the host's architecture named: not a cross build
  EXPECT_EQ(render_setup_script(r), render_setup_script(shipped("trixie")));
}

TEST(SetupScript, ACrossBuildTheReleaseOrPackageManagerCannotMakeIsRefusedWithWhatToDo) {
  // dnf has no cross toolchain: build on the target's architecture.
  try {
    render_setup_script(cross("rockylinux9"));
    FAIL() << "dnf rendered a cross build";
  } catch (const sf::ConfigurationError& e) {
    EXPECT_TRUE(contains(e.what(), "rockylinux9 cannot cross-build arm64 on an amd64 host"))
        << e.what();
    EXPECT_TRUE(contains(e.render(), "build on an arm64 host")) << e.render();
  }
  // apt can, but only for the architectures the release lists (ubuntu's ports are elsewhere).
  try {
    render_setup_script(cross("noble"));
    FAIL() << "noble rendered a cross build it does not list";
  } catch (const sf::ConfigurationError& e) {
    EXPECT_TRUE(contains(e.render(), "cross_arches")) << e.render();
  }
  EXPECT_THROW(render_setup_script(cross("trixie", "riscv64")), sf::ConfigurationError);
}
