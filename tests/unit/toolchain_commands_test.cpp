// `toolchains list` and `toolchains show` through the CLI entry point, with the shipped toolchain
// plugins loaded from the build tree and site releases from a --config file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.hpp"
#include "support/host_arch.hpp"

namespace fs = std::filesystem;

namespace {

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

Result sf_run(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  Result r;
  r.code = sf::cli::run(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

class ToolchainCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    // A private HOME: no user config of the machine leaks in.
    dir_ = fs::temp_directory_path() / ("sf-toolchain-commands-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    ::setenv("HOME", dir_.c_str(), 1);
    ::setenv("SLURM_FACTORY_PLUGIN_PATH", SF_TEST_PLUGIN_DIR, 1);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  fs::path dir_;
};

}  // namespace

TEST_F(ToolchainCommands, ListJsonHasTheEightShippedReleases) {
  const auto r = sf_run({"toolchains", "list", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto list = nlohmann::json::parse(r.out);
  ASSERT_TRUE(list.is_array());
  std::vector<std::string> names;
  for (const auto& t : list) names.push_back(t.at("name"));
  EXPECT_EQ(names, (std::vector<std::string>{"jammy", "noble", "resolute", "rockylinux8",
                                             "rockylinux9", "rockylinux10", "bookworm", "trixie"}));
  const auto& trixie = list.at(7);
  EXPECT_EQ(trixie.at("family"), "debian");
  EXPECT_EQ(trixie.at("gcc"), "14.2");
  EXPECT_EQ(trixie.at("glibc"), "2.41");
  EXPECT_EQ(trixie.at("base_image"), "docker.io/library/debian:trixie");
  EXPECT_EQ(trixie.at("bootstrap"), true);
  EXPECT_EQ(trixie.at("package_manager"), "apt");
  EXPECT_EQ(list.at(4).at("package_manager"), "dnf");
}

TEST_F(ToolchainCommands, ListIncludesASiteReleaseFromAUserConfig) {
  const auto config = write("site.yaml",
                            "toolchains:\n"
                            "  noble-site:\n"
                            "    family: ubuntu\n"
                            "    based_on: noble\n"
                            "    base_image: registry.example.org/ubuntu:24.04\n");
  const auto r = sf_run({"--config", config, "toolchains", "list", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto list = nlohmann::json::parse(r.out);
  ASSERT_EQ(list.size(), 9U);
  const auto& site = list.at(8);
  EXPECT_EQ(site.at("name"), "noble-site");
  EXPECT_EQ(site.at("family"), "ubuntu");
  EXPECT_EQ(site.at("gcc"), "13.3");
  EXPECT_EQ(site.at("base_image"), "registry.example.org/ubuntu:24.04");
  EXPECT_EQ(site.at("origin").get<std::string>().rfind(config + ":", 0), 0U) << site.at("origin");

  const auto table = sf_run({"--config", config, "toolchains", "list"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_EQ(table.out.rfind("NAME ", 0), 0U) << table.out;
  EXPECT_NE(table.out.find("noble-site"), std::string::npos);
  EXPECT_NE(table.out.find("registry.example.org/ubuntu:24.04"), std::string::npos);
}

TEST_F(ToolchainCommands, SiteReleaseOfAnUnloadedFamilyFailsAtItsLine) {
  const auto config =
      write("bad.yaml", "toolchains:\n  sles15:\n    family: suse\n    os_name: SLES 15\n");
  const auto r = sf_run({"--config", config, "toolchains", "list"});
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.err.find(config + ":3:13: site toolchain 'sles15' is bound to toolchain family "
                                "'suse'"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("toolchain-suse"), std::string::npos) << r.err;
}

TEST_F(ToolchainCommands, ShowPrintsTheDataAndTheSetupScript) {
  const auto r = sf_run({"toolchains", "show", "noble"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* part :
       {"name:            noble\n", "gcc:             13.3\n", "glibc:           2.39\n",
        "base image:      docker.io/library/ubuntu:24.04\n", "  munge:", "libmunge-dev",
        "system libraries:\n", "setup script:\n#!/bin/sh\n", "useradd --uid 10001"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n" << r.out;
  }
}

TEST_F(ToolchainCommands, ShowJsonAndScriptAgree) {
  const auto json = sf_run({"toolchains", "show", "trixie", "--gpu", "cuda", "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j.at("name"), "trixie");
  EXPECT_EQ(j.at("bootstrap").at("tool"), "mmdebstrap");
  EXPECT_EQ(j.at("extra_packages"), nlohmann::json::array({"libnvidia-ml-dev"}));
  const auto script = sf_run({"toolchains", "show", "trixie", "--gpu=cuda", "--script"});
  ASSERT_EQ(script.code, 0) << script.err;
  EXPECT_EQ(script.out, j.at("setup_script").get<std::string>());
  EXPECT_EQ(script.out.rfind("#!/bin/sh\n", 0), 0U);
  EXPECT_NE(script.out.find("sf_enable_apt_component non-free"), std::string::npos);
  EXPECT_NE(script.out.find("    libnvidia-ml-dev \\\n"), std::string::npos);
}

TEST_F(ToolchainCommands, ShowRefusesUnknownNamesAndFlavours) {
  const auto unknown = sf_run({"toolchains", "show", "nobel"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("did you mean 'noble'?"), std::string::npos) << unknown.err;
  const auto missing = sf_run({"toolchains", "show"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("needs the name"), std::string::npos) << missing.err;
  const auto flavour = sf_run({"toolchains", "show", "noble", "--gpu", "metal"});
  EXPECT_EQ(flavour.code, 2);
  EXPECT_NE(flavour.err.find("use one of: cuda, oneapi, rocm"), std::string::npos) << flavour.err;
  const auto none = sf_run({"toolchains", "show", "rockylinux8", "--gpu", "rocm"});
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("has no packages for GPU flavour 'rocm'"), std::string::npos) << none.err;
}

TEST_F(ToolchainCommands, HelpHasExamples) {
  const auto r = sf_run({"toolchains", "show", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--script"), std::string::npos) << r.out;
}

namespace sf {
namespace {

// Issue 17: `toolchains show --arch` shows the release as a build for that architecture.
TEST_F(ToolchainCommands, ShowArchShowsTheCrossBuildImageOrTheRefusal) {
  const std::string foreign = host_arch() == "amd64" ? "arm64" : "amd64";
  const auto cross = sf_run({"toolchains", "show", "trixie", "--arch", foreign});
  ASSERT_EQ(cross.code, 0) << cross.err;
  EXPECT_NE(cross.out.find("arch:            " + foreign + " (cross-built on " + host_arch() + ")"),
            std::string::npos)
      << cross.out;
  EXPECT_NE(cross.out.find("dpkg --add-architecture " + foreign), std::string::npos) << cross.out;
  const auto json = sf_run({"toolchains", "show", "trixie", "--arch", foreign, "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j.at("build_arch"), host_arch());
  EXPECT_EQ(j.at("arch"), foreign);
  const auto packages = j.at("packages").get<std::vector<std::string>>();
  EXPECT_NE(std::find(packages.begin(), packages.end(), "libmunge-dev:" + foreign), packages.end());
  const auto native = sf_run({"toolchains", "show", "noble"});
  EXPECT_NE(native.out.find("cross-builds:    no (native builds only)"), std::string::npos)
      << native.out;
  const auto refused = sf_run({"toolchains", "show", "rockylinux9", "--arch", foreign});
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.err.find("rockylinux9 cannot cross-build " + foreign), std::string::npos)
      << refused.err;
}

}  // namespace
}  // namespace sf
