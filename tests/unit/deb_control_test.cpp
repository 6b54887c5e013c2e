#include "deb_control.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "ar_archive.hpp"

namespace deb = sf::deb;
using deb::Role;

TEST(DebControl, VersionsSortAcrossReleasesAndRebuilds) {
  EXPECT_EQ(deb::debian_version("24.11.5", "1", "trixie"), "24.11.5-1+trixie");
  EXPECT_EQ(deb::debian_version("24.11.0-rc1", "1", "trixie"), "24.11.0~rc1-1+trixie");
  EXPECT_EQ(deb::debian_version("24.11.5-2", "3", "bookworm"), "24.11.5.2-3+bookworm");
  // dpkg is the judge of the order: 22.05.8 < 24.11.0~rc1 < 24.11.0 < 24.11.5-1 < 24.11.5-2
  const char* order[] = {"22.05.8-1+bookworm", "24.11.0~rc1-1+bookworm", "24.11.0-1+bookworm",
                         "24.11.5-1+bookworm", "24.11.5-2+bookworm"};
  for (std::size_t i = 0; i + 1 < std::size(order); ++i) {
    const std::string cmd =
        std::string("dpkg --compare-versions '") + order[i] + "' lt '" + order[i + 1] + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
}

TEST(DebControl, UpstreamVersionDropsTheRevisionOnly) {
  EXPECT_EQ(deb::upstream_version("2.41-12"), "2.41");
  EXPECT_EQ(deb::upstream_version("1:2.3-4ubuntu1"), "1:2.3");
  EXPECT_EQ(deb::upstream_version("1.2"), "1.2");
}

TEST(DebControl, PackageNamesCarryPrefixAndFlavour) {
  deb::DebSettings s;
  EXPECT_EQ(deb::package_name(s, {}, Role::kSlurmd), "slurm-factory-slurmd");
  EXPECT_EQ(deb::package_name(s, {"cuda", "rocm"}, Role::kCommon),
            "slurm-factory-cuda-rocm-common");
  s.name_prefix = "site-";
  EXPECT_EQ(deb::package_name(s, {}, Role::kClient), "site-client");
}

TEST(DebControl, CommonDependsOnTheOsPackagesOfSystemLibraries) {
  const std::vector<sf::SystemLibraryPackage> libs{{"libc.so.6", "libc6", "2.41-12"},
                                                   {"libm.so.6", "libc6", "2.41-12"},
                                                   {"libpam.so.0", "libpam0g", "1.7.0-5"},
                                                   {"libfoo.so.1", "", ""}};
  EXPECT_EQ(deb::common_depends(libs), "libc6 (>= 2.41), libpam0g (>= 1.7.0), munge");
  EXPECT_EQ(deb::common_depends({}), "munge");
}

TEST(DebControl, ControlTextHasEveryFieldAndFoldsTheDescription) {
  deb::ControlFields f;
  f.package = "slurm-factory-cuda-slurmd";
  f.version = "24.11.5-1+trixie";
  f.arch = "amd64";
  f.maintainer = "HPC <hpc@example.org>";
  f.depends = "slurm-factory-cuda-common (= 24.11.5-1+trixie)";
  f.conflicts = "slurm-factory-slurmd";
  f.installed_kib = 12;
  f.summary = "Slurm 24.11.5: compute node daemon";
  f.description = "line one\n\nline three";
  const std::string t = deb::control_text(f);
  EXPECT_NE(t.find("Package: slurm-factory-cuda-slurmd\n"), std::string::npos);
  EXPECT_NE(t.find("Installed-Size: 12\n"), std::string::npos);
  EXPECT_NE(t.find("Conflicts: slurm-factory-slurmd\nReplaces: slurm-factory-slurmd\n"
                   "Provides: slurm-factory-slurmd\n"),
            std::string::npos);
  EXPECT_NE(t.find("Description: Slurm 24.11.5: compute node daemon\n line one\n .\n line three\n"),
            std::string::npos);
}

TEST(DebControl, ScriptsQuoteTheRootAndHandleTheUnit) {
  deb::ScriptContext c{Role::kSlurmd, "/opt/my slurm", "slurmd", "/var/lib/slurm-factory-slurmd"};
  const std::string post = deb::postinst_script(c);
  EXPECT_NE(post.find("deb-systemd-helper enable slurmd.service"), std::string::npos);
  EXPECT_EQ(deb::postinst_script(c).find("useradd"), std::string::npos);
  EXPECT_NE(deb::prerm_script(c).find("deb-systemd-invoke stop slurmd.service"), std::string::npos);
  deb::ScriptContext common{Role::kCommon, "/opt/my slurm", "", "/var/lib/slurm-factory-common"};
  const std::string cp = deb::postinst_script(common);
  EXPECT_NE(cp.find("ROOT='/opt/my slurm'"), std::string::npos);
  EXPECT_NE(cp.find("useradd --system"), std::string::npos);
  EXPECT_EQ(deb::prerm_script(common), "");
  EXPECT_NE(deb::postrm_script(common).find("purge"), std::string::npos);
  deb::ScriptContext client{Role::kClient, "/opt/slurm", "", "/var/lib/x"};
  EXPECT_EQ(deb::postrm_script(client), "");
  // every script is valid sh
  for (const std::string& s : {post, cp, deb::postrm_script(common), deb::prerm_script(c)}) {
    const auto f = std::filesystem::temp_directory_path() / "sf-deb-script-test.sh";
    std::ofstream(f) << s;
    EXPECT_EQ(std::system(("sh -n " + f.string()).c_str()), 0) << s;
    std::filesystem::remove(f);
  }
}

TEST(DebControl, Md5sumsArePathsWithoutLeadingSlash) {
  EXPECT_EQ(deb::md5sums_text({{"opt/a", "11"}, {"/etc/b", "22"}}), "22  etc/b\n11  opt/a\n");
}

TEST(ArArchive, WritesWhatArReadsBack) {
  const auto dir = std::filesystem::temp_directory_path() / "sf-ar-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "member.bin") << "odd";
  ASSERT_EQ(
      deb::write_ar(dir / "x.a",
                    {{"debian-binary", "2.0\n", {}}, {"member.bin", "", dir / "member.bin"}}, 0),
      "");
  // GNU ar (binutils) lists the members in order
  const std::string cmd = "cd " + dir.string() + " && ar t x.a > list.txt";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream list(dir / "list.txt");
  std::string a, b;
  std::getline(list, a);
  std::getline(list, b);
  EXPECT_EQ(a, "debian-binary");
  EXPECT_EQ(b, "member.bin");
  EXPECT_NE(deb::write_ar(dir / "y.a", {{"a-name-longer-than-16", "x", {}}}, 0), "");
  std::filesystem::remove_all(dir);
}
