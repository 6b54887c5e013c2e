#include "rpm_spec.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace rpm = sf::rpm;
using sf::pkg::Role;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(RpmSpec, VersionsReleasesAndArches) {
  EXPECT_EQ(rpm::rpm_version("24.11.5"), "24.11.5");
  EXPECT_EQ(rpm::rpm_version("24.11.0-rc1"), "24.11.0~rc1");
  EXPECT_EQ(rpm::rpm_version("24.11.5-2"), "24.11.5.2");
  EXPECT_EQ(rpm::rpm_release("1", "rockylinux9"), "1.rockylinux9");
  EXPECT_EQ(rpm::rpm_release("2", "my-site"), "2.my_site");
  EXPECT_EQ(rpm::rpm_arch("amd64"), "x86_64");
  EXPECT_EQ(rpm::rpm_arch("arm64"), "aarch64");
  // rpm itself is the judge of the order: 24.11.0~rc1 < 24.11.0 < 24.11.5 < 24.11.5.2
  const char* order[] = {"24.11.0~rc1", "24.11.0", "24.11.5", "24.11.5.2"};
  for (std::size_t i = 0; i + 1 < std::size(order); ++i) {
    const std::string cmd = std::string("test \"$(rpm --eval '%{lua: print(rpm.vercmp(\"") +
                            order[i] + "\", \"" + order[i + 1] + "\"))}')\" = -1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
}

TEST(RpmSpec, RequiresAreTheViewsSonamesAndMunge) {
  const std::vector<sf::SystemLibraryPackage> libs{{"libc.so.6", "libc6", "2.41-12"},
                                                   {"libpam.so.0", "", ""}};
  EXPECT_EQ(rpm::common_requires(libs, "amd64"),
            (std::vector<std::string>{"libc.so.6()(64bit)", "libpam.so.0()(64bit)", "munge"}));
}

TEST(RpmSpec, FileListLinesAreQuotedAndEscaped) {
  EXPECT_EQ(rpm::files_line("/opt/slurm/view/bin/sinfo"), "\"/opt/slurm/view/bin/sinfo\"\n");
  EXPECT_EQ(rpm::files_line("/opt/a 50%"), "\"/opt/a 50%%\"\n");
  EXPECT_EQ(rpm::files_line("/etc/profile.d/x.sh", true),
            "%config(noreplace) \"/etc/profile.d/x.sh\"\n");
  EXPECT_EQ(rpm::files_line("/opt/slurm", false, true), "%dir \"/opt/slurm\"\n");
}

TEST(RpmSpec, OneSpecForEveryPackage) {
  rpm::SpecInput in;
  in.settings.maintainer = "HPC <hpc@example.org>";
  in.artifact.slurm_version = "24.11.5";
  in.artifact.toolchain = "rockylinux9";
  in.artifact.os_name = "Rocky Linux 9";
  in.artifact.arch = "amd64";
  in.artifact.builder_version = "0.1.0";
  in.artifact.system_packages = {{"libc.so.6", "glibc", "2.34"}};
  in.root = "/opt/slurm";
  in.compression_macro = "w3.zstdio";
  in.changelog_date = "Tue Nov 14 2023";
  in.packages = {
      {Role::kCommon, "slurm-factory-common", "Slurm: common", "/w/common.files", ""},
      {Role::kSlurmd, "slurm-factory-slurmd", "Slurm: node", "/w/slurmd.files", "slurmd"}};
  const std::string s = rpm::spec_text(in);
  EXPECT_THAT(s,
              HasSubstr("Name: slurm-factory-common\nVersion: 24.11.5\nRelease: 1.rockylinux9\n"));
  EXPECT_THAT(s, HasSubstr("AutoReqProv: no\nRequires: libc.so.6()(64bit)\nRequires: munge\n"));
  EXPECT_THAT(s, HasSubstr("Packager: HPC <hpc@example.org>\n"));
  EXPECT_THAT(s, HasSubstr("%package -n slurm-factory-slurmd\n"));
  EXPECT_THAT(s, HasSubstr("Requires: slurm-factory-common = %{version}-%{release}\n"));
  EXPECT_THAT(s, HasSubstr("%files -f /w/common.files\n"));
  EXPECT_THAT(s, HasSubstr("%files -n slurm-factory-slurmd -f /w/slurmd.files\n"));
  EXPECT_THAT(s, HasSubstr("%pre\n"));  // the common package makes the slurm user
  EXPECT_THAT(s, HasSubstr("useradd --system"));
  EXPECT_THAT(s, HasSubstr("%post -n slurm-factory-slurmd\n"));
  EXPECT_THAT(s, HasSubstr("systemctl --no-reload preset slurmd.service"));
  EXPECT_THAT(s, HasSubstr("%preun -n slurm-factory-slurmd\n"));
  EXPECT_THAT(
      s,
      HasSubstr("%changelog\n* Tue Nov 14 2023 HPC <hpc@example.org> - 24.11.5-1.rockylinux9\n"));
  EXPECT_THAT(s, HasSubstr("%global _binary_payload w3.zstdio\n"));
  EXPECT_THAT(s, Not(HasSubstr("Conflicts:")));
  // What comes from a site's config cannot expand a macro or start a line.
  in.artifact.os_name = "Site OS %(rm -rf /)\nRequires: evil";
  const std::string hostile = rpm::spec_text(in);
  EXPECT_THAT(hostile, HasSubstr("for Site OS %%(rm -rf /) Requires: evil."));
  EXPECT_THAT(hostile, Not(HasSubstr("\nRequires: evil")));
  in.artifact.gpu = {"cuda"};
  EXPECT_THAT(rpm::spec_text(in),
              HasSubstr("Provides: slurm-factory-slurmd\nConflicts: slurm-factory-slurmd\n"));
}
