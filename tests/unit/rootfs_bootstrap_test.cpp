// The offline base image: the apt library's mmdebstrap/debootstrap command lines, and the core
// running a family's bootstrap (first installed tool, logged commands, cached tarball, errors that
// name the tools, the log and what to do).
#include "toolchains/rootfs_bootstrap.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sf_toolchain/apt.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace {

sf::BootstrapRecipe recipe(const std::string& tool = "mmdebstrap") {
  sf::BootstrapRecipe r;
  r.tool = tool;
  r.suite = "trixie";
  r.mirror = "http://mirror.example/debian";
  r.components = {"main", "contrib"};
  r.extra_packages = {"ca-certificates", "gnupg"};
  return r;
}

using Argv = std::vector<std::string>;

// A family whose bootstrap is whatever the test says.
class ScriptedFamily : public sf::ToolchainFamily {
 public:
  explicit ScriptedFamily(std::optional<sf::RootfsBootstrap> plan) : plan_(std::move(plan)) {}
  std::string name() const override { return "scripted"; }
  std::vector<sf::ToolchainRelease> releases() const override { return {}; }
  std::optional<sf::RootfsBootstrap> rootfs_bootstrap(const sf::BootstrapRecipe&,
                                                      const std::string&,
                                                      const std::string& tarball,
                                                      const std::string& work_dir) const override {
    tarball_ = tarball;
    work_dir_ = work_dir;
    auto plan = plan_;
    if (!plan) return plan;
    // Placeholders the test's commands use for the paths the core chose.
    for (auto& m : plan->methods) {
      for (auto& argv : m.commands) {
        for (auto& a : argv) {
          if (a == "TARBALL") a = tarball;
          if (a == "WORKDIR") a = work_dir;
        }
      }
      for (auto& s : m.scratch) {
        if (s == "WORKDIR") s = work_dir;
      }
    }
    return plan;
  }
  mutable std::string tarball_;
  mutable std::string work_dir_;

 private:
  std::optional<sf::RootfsBootstrap> plan_;
};

struct TempDir {
  TempDir() {
    path = fs::temp_directory_path() /
           ("sf-bootstrap-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
  static inline int counter = 0;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const char* kMissing = "sf-no-such-bootstrap-tool";

}  // namespace

TEST(AptRootfsBootstrap, MmdebstrapFirstThenDebootstrapAndTar) {
  const auto plan = sf::apt::rootfs_bootstrap(recipe(), "amd64", "/c/out.tar", "/c/root");
  ASSERT_EQ(plan.methods.size(), 2U);
  EXPECT_EQ(plan.methods[0].tool, "mmdebstrap");
  EXPECT_EQ(plan.methods[0].commands,
            (std::vector<Argv>{{"mmdebstrap", "--variant=minbase", "--format=tar",
                                "--architectures=amd64", "--components=main,contrib",
                                "--include=ca-certificates,gnupg", "trixie", "/c/out.tar",
                                "http://mirror.example/debian"}}));
  EXPECT_TRUE(plan.methods[0].scratch.empty());
  EXPECT_EQ(plan.methods[1].tool, "debootstrap");
  EXPECT_EQ(
      plan.methods[1].commands,
      (std::vector<Argv>{
          {"debootstrap", "--variant=minbase", "--arch=amd64", "--components=main,contrib",
           "--include=ca-certificates,gnupg", "trixie", "/c/root", "http://mirror.example/debian"},
          {"tar", "--numeric-owner", "-C", "/c/root", "-cf", "/c/out.tar", "."}}));
  EXPECT_EQ(plan.methods[1].scratch, (std::vector<std::string>{"/c/root"}));
  EXPECT_NE(plan.install_hint.find("apt-get install mmdebstrap"), std::string::npos);
}

TEST(AptRootfsBootstrap, DebootstrapRecipeNeverUsesMmdebstrapAndDefaultsApply) {
  auto r = recipe("debootstrap");
  r.components.clear();
  r.extra_packages.clear();
  r.variant = "buildd";
  const auto plan = sf::apt::rootfs_bootstrap(r, "arm64", "/o.tar", "/w");
  ASSERT_EQ(plan.methods.size(), 1U);
  EXPECT_EQ(plan.methods[0].commands.at(0),
            (Argv{"debootstrap", "--variant=buildd", "--arch=arm64", "--components=main", "trixie",
                  "/w", "http://mirror.example/debian"}));
}

TEST(AptRootfsBootstrap, TheAptFamilyOffersIt) {
  const sf::AptToolchainFamily family(
      "demo",
      "family: demo\ndefaults: {build_tools: {compiler: [gcc]}}\nreleases:\n  d1: {os_name: Demo, "
      "gcc_version: '1.2', glibc_version: '2.3', "
      "base_image: demo:1}\n",
      "demo.yaml");
  const auto plan = family.rootfs_bootstrap(recipe(), "amd64", "/o.tar", "/w");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->methods.at(0).tool, "mmdebstrap");
}

TEST(RootfsBootstrap, RunsTheFirstInstalledToolThenReusesTheTarball) {
  TempDir cache;
  sf::RootfsBootstrap plan;
  plan.methods.push_back({kMissing, "never", {{kMissing, "TARBALL"}}, {}});
  plan.methods.push_back({"sh",
                          "a moment",
                          {{"sh", "-c", "mkdir -p $1", "sh", "WORKDIR"},
                           {"sh", "-c", "printf rootfs > $1", "sh", "TARBALL"}},
                          {"WORKDIR"}});
  ScriptedFamily family(plan);
  const auto tarball = sf::bootstrap_rootfs(family, recipe(), "amd64", cache.path, {});
  EXPECT_EQ(read_file(tarball), "rootfs");
  EXPECT_EQ(tarball.parent_path(), cache.path / "bootstrap");
  EXPECT_EQ(tarball.extension(), ".tar");
  EXPECT_FALSE(fs::exists(family.work_dir_)) << "scratch directories are removed";
  EXPECT_FALSE(fs::exists(family.tarball_)) << "the temporary tarball is renamed";
  // The commands are in the log next to the tarball.
  fs::path log = tarball;
  log.replace_extension(".log");
  EXPECT_NE(read_file(log).find("$ sh -c printf rootfs"), std::string::npos) << read_file(log);

  // Cached: the family is not asked again.
  ScriptedFamily never(std::nullopt);
  EXPECT_EQ(sf::bootstrap_rootfs(never, recipe(), "amd64", cache.path, {}), tarball);
  EXPECT_TRUE(never.tarball_.empty());
}

// The tool's stdout and stderr reach the log and the progress sink, and the tool inherits no
// descriptor above stderr (mmdebstrap hands them to dash, which cannot use fds above 9).
TEST(RootfsBootstrap, TheToolsOutputReachesTheLogAndNoExtraDescriptorIsInherited) {
  TempDir cache;
  sf::RootfsBootstrap plan;
  plan.methods.push_back(
      {"sh",
       "a moment",
       {{"sh", "-c",
         "echo to-stdout; echo to-stderr >&2; ls /proc/self/fd | sort -n | tr '\\n' ' '; "
         "echo; printf rootfs > $1",
         "sh", "TARBALL"}},
       {}});
  ScriptedFamily family(plan);
  std::vector<std::string> shown;
  const auto tarball =
      sf::bootstrap_rootfs(family, recipe(), "amd64", cache.path,
                           [&](std::string_view line) { shown.emplace_back(line); });
  fs::path log_file = tarball;
  log_file.replace_extension(".log");
  const std::string log = read_file(log_file);
  EXPECT_NE(log.find("\nto-stdout\n"), std::string::npos) << log;
  EXPECT_NE(log.find("\nto-stderr\n"), std::string::npos) << log;
  // `ls` lists 0 1 2 and the one it opens to read /proc/self/fd (3): nothing else.
  EXPECT_NE(log.find("\n0 1 2 3 \n"), std::string::npos) << log;
  EXPECT_NE(std::find(shown.begin(), shown.end(), "to-stdout"), shown.end());
  EXPECT_NE(std::find(shown.begin(), shown.end(), "to-stderr"), shown.end());
}

TEST(RootfsBootstrap, AFailingStepNamesTheToolExitCodeAndLog) {
  TempDir cache;
  sf::RootfsBootstrap plan;
  plan.methods.push_back(
      {"sh", "a moment", {{"sh", "-c", "exit 3"}, {"sh", "-c", "never run"}}, {}});
  ScriptedFamily family(plan);
  try {
    sf::bootstrap_rootfs(family, recipe(), "amd64", cache.path, {});
    FAIL() << "no error";
  } catch (const sf::ContainerError& e) {
    EXPECT_EQ(std::string(e.what()), "bootstrapping the base rootfs failed");
    EXPECT_EQ(e.context_value("tool"), "sh");
    EXPECT_EQ(e.context_value("exit code"), "3");
    EXPECT_EQ(e.context_value("mirror"), "http://mirror.example/debian");
    const std::string log = read_file(e.context_value("log file"));
    EXPECT_NE(log.find("$ sh -c exit 3\n"), std::string::npos) << log;
    EXPECT_EQ(log.find("never run"), std::string::npos) << "steps after a failure do not run";
    EXPECT_NE(e.remediation().find("mirror is reachable"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(family.tarball_));
}

TEST(RootfsBootstrap, NoInstalledToolNamesThemAndTheFamilysHint) {
  TempDir cache;
  sf::RootfsBootstrap plan;
  plan.methods.push_back({kMissing, "", {{kMissing}}, {}});
  plan.methods.push_back({"sf-no-such-tool-either", "", {{"sf-no-such-tool-either"}}, {}});
  plan.install_hint = "install one of them";
  ScriptedFamily family(plan);
  try {
    sf::bootstrap_rootfs(family, recipe(), "amd64", cache.path, {});
    FAIL() << "no error";
  } catch (const sf::ContainerError& e) {
    EXPECT_EQ(std::string(e.what()), std::string("cannot bootstrap a base image: neither ") +
                                         kMissing + " nor sf-no-such-tool-either is installed");
    EXPECT_EQ(e.remediation(), "install one of them");
  }
}

TEST(RootfsBootstrap, AFamilyWithoutABootstrapIsNamed) {
  TempDir cache;
  ScriptedFamily family(std::nullopt);
  try {
    sf::bootstrap_rootfs(family, recipe(), "amd64", cache.path, {});
    FAIL() << "no error";
  } catch (const sf::ContainerError& e) {
    EXPECT_NE(std::string(e.what()).find("toolchain family 'scripted'"), std::string::npos);
    EXPECT_EQ(e.context_value("family"), "scripted");
  }
}
