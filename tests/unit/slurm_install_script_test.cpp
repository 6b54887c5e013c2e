// templates/slurm_install.sh on this host: shellcheck-clean as a template and as rendered for every
// golden case, --help and option errors, relocation of the text files (idempotent), and a
// --dry-run --full-init that prints its plan and changes nothing. (The real run, which creates
// users, keys and configs, happens in a container: tests/integration/install_script_test.cpp.)
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "artifact/artifact_assets.hpp"
#include "support/template_renderer.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kTemplates = fs::path(SF_TEST_SOURCE_DIR) / "templates";

struct Result {
  int rc;
  std::string out;
};

Result sh(const std::string& cmd) {
  Result r{0, {}};
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Everything under `dir`: relative path -> content (or "<dir>").
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> m;
  if (!fs::exists(dir)) return m;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    m[e.path().lexically_relative(dir).string()] =
        e.is_regular_file() ? read(e.path()) : std::string("<dir>");
  }
  return m;
}

class SlurmInstallScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = fs::temp_directory_path() /
           ("sf-install-script-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(tmp_);
    root_ = tmp_ / "unpacked";
    info_ = {"24.11.5", "bookworm", "debian", "Debian 12", "amd64", {}, "/opt/slurm", "0.1.0"};
    sf::render_artifact_assets(info_, root_, sf::TemplateRenderer(kTemplates));
    fs::create_directories(root_ / "view/sbin");
    fs::create_directories(root_ / "view/lib/slurm");
    // Stand-ins for the daemons: a dry run looks for them but never starts them.
    for (const char* d : {"munged", "slurmctld", "slurmd", "slurmdbd", "slurmstepd"}) {
      std::ofstream(root_ / "view/sbin" / d) << "#!/bin/sh\nexit 99\n";
      fs::permissions(root_ / "view/sbin" / d, fs::perms::owner_all);
    }
    script_ = root_ / "data/slurm_assets/slurm_install.sh";
  }
  void TearDown() override { fs::remove_all(tmp_); }

  fs::path tmp_, root_, script_;
  sf::ArtifactInfo info_;
};

}  // namespace

TEST_F(SlurmInstallScriptTest, ShellcheckPassesOnTemplateAndRenderedScripts) {
  ASSERT_EQ(sh("command -v shellcheck").rc, 0) << "shellcheck is not installed";
  auto r = sh("shellcheck " + (kTemplates / "slurm_install.sh").string());
  EXPECT_EQ(r.rc, 0) << r.out;
  r = sh("shellcheck " + script_.string());
  EXPECT_EQ(r.rc, 0) << r.out;
  for (const char* c : {"bookworm", "rockylinux9", "trixie-gpu"}) {
    const fs::path golden =
        fs::path(SF_TEST_SOURCE_DIR) / "tests/unit/golden/templates" / c / "slurm_install.sh";
    r = sh("shellcheck " + golden.string());
    EXPECT_EQ(r.rc, 0) << c << ":\n" << r.out;
  }
}

TEST_F(SlurmInstallScriptTest, HelpListsEveryOption) {
  auto r = sh("bash " + script_.string() + " --help");
  ASSERT_EQ(r.rc, 0) << r.out;
  for (const char* opt : {"--prefix", "--init-only", "--full-init", "--start-services",
                          "--head-node", "--cluster-name", "--auth munge|slurm", "--dry-run"}) {
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt << " missing from --help:\n" << r.out;
  }
}

TEST_F(SlurmInstallScriptTest, BadOptionsAreUsageErrors) {
  EXPECT_EQ(sh("bash " + script_.string() + " --bogus").rc, 2);
  EXPECT_EQ(sh("bash " + script_.string() + " --auth kerberos").rc, 2);
  EXPECT_EQ(sh("bash " + script_.string() + " --cluster-name 'Bad Name'").rc, 2);
  EXPECT_EQ(sh("bash " + script_.string() + " --prefix").rc, 2);
  auto r = sh("bash " + script_.string() + " --prefix " + (tmp_ / "nothing-here").string());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("does not hold an unpacked artifact"), std::string::npos) << r.out;
}

TEST_F(SlurmInstallScriptTest, AuthSlurmIsRefusedBefore2311) {
  info_.slurm_version = "23.02.7";
  fs::remove_all(root_ / "data");
  sf::render_artifact_assets(info_, root_, sf::TemplateRenderer(kTemplates));
  auto r = sh("bash " + script_.string() + " --dry-run --auth slurm");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("23.11"), std::string::npos) << r.out;
}

TEST_F(SlurmInstallScriptTest, RelocationRewritesTextFilesOnceAndFollowsAMove) {
  const fs::path lua = root_ / "modules/slurm/24.11.5-bookworm.lua";
  const fs::path unit = root_ / "data/slurm_assets/defaults/slurmd.service";
  ASSERT_NE(read(unit).find("/opt/slurm/view/sbin/slurmd"), std::string::npos);

  auto r = sh("bash " + script_.string());
  ASSERT_EQ(r.rc, 0) << r.out;
  const std::string root = fs::canonical(root_).string();
  EXPECT_NE(
      read(unit).find(root + "/view/sbin/slurmd --systemd -d " + root + "/view/sbin/slurmstepd"),
      std::string::npos)
      << read(unit);
  EXPECT_EQ(read(unit).find("/opt/slurm"), std::string::npos);
  EXPECT_NE(read(lua).find("installed_root = \"" + root + "\""), std::string::npos);

  const auto before = snapshot(root_);
  r = sh("bash " + script_.string());
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("already name"), std::string::npos) << r.out;
  EXPECT_EQ(snapshot(root_), before) << "a second run changed files";

  const fs::path moved_ok = tmp_ / "elsewhere with space";
  fs::rename(root_, moved_ok);
  r = sh("bash '" + (moved_ok / "data/slurm_assets/slurm_install.sh").string() + "'");
  ASSERT_EQ(r.rc, 0) << r.out;
  const std::string unit_text = read(moved_ok / "data/slurm_assets/defaults/slurmd.service");
  EXPECT_NE(unit_text.find(fs::canonical(moved_ok).string() + "/view/sbin/slurmd"),
            std::string::npos)
      << unit_text;
  EXPECT_EQ(unit_text.find(root + "/"), std::string::npos) << unit_text;
}

TEST_F(SlurmInstallScriptTest, RewritesTheViewTextFilesListedAtPackaging) {
  std::ofstream(root_ / "view/sbin/seff")
      << "#!/usr/bin/perl\nuse lib \"/opt/slurm/view/lib/perl5\";\n";
  std::ofstream(root_ / "view/sbin/untouched") << "/opt/slurm/view but not listed\n";
  std::ofstream(root_ / "outside.txt") << "/opt/slurm/view\n";
  std::ofstream(root_ / "data/slurm_assets/prefix-files.txt")
      << "sbin/seff\n../outside.txt\n"
      << (root_ / "outside.txt").string() << "\n";
  auto r = sh("bash " + script_.string());
  ASSERT_EQ(r.rc, 0) << r.out;
  const std::string root = fs::canonical(root_).string();
  EXPECT_EQ(read(root_ / "view/sbin/seff"),
            "#!/usr/bin/perl\nuse lib \"" + root + "/view/lib/perl5\";\n");
  EXPECT_EQ(read(root_ / "view/sbin/untouched"), "/opt/slurm/view but not listed\n");
  EXPECT_EQ(read(root_ / "outside.txt"), "/opt/slurm/view\n") << "a listed path left the view";
}

TEST_F(SlurmInstallScriptTest, DryRunFullInitPrintsThePlanAndChangesNothing) {
  const auto tree_before = snapshot(root_);
  const auto etc_slurm_before = snapshot("/etc/slurm");
  const bool munge_key_before = fs::exists("/etc/munge/munge.key");
  auto r = sh("bash " + script_.string() +
              " --dry-run --full-init --accounting --start-services --cluster-name test_1");
  ASSERT_EQ(r.rc, 0) << r.out;
  for (const char* expected :
       {"dry run", "would generate /etc/munge/munge.key", "would generate /etc/slurm/jwt_hs256.key",
        "would generate /etc/slurm/slurm.key", "would write /etc/slurm/slurm.conf",
        "would write /etc/slurm/slurmdbd.conf (mode 600, owner slurm:slurm",
        "would rewrite /opt/slurm -> "}) {
    EXPECT_NE(r.out.find(expected), std::string::npos) << expected << "\n" << r.out;
  }
  if (!fs::exists("/run/systemd/system")) {
    EXPECT_NE(r.out.find("proctrack/linuxproc and task/none"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("slurmd -d "), std::string::npos) << r.out;
  }
  EXPECT_EQ(snapshot(root_), tree_before) << "--dry-run changed the artifact tree";
  EXPECT_EQ(snapshot("/etc/slurm"), etc_slurm_before) << "--dry-run changed /etc/slurm";
  EXPECT_EQ(fs::exists("/etc/munge/munge.key"), munge_key_before);
}
