// The runtime image's RUN step (toolchains/runtime_rootfs.hpp): it installs only what the base
// lacks, with the release's package manager, quotes every name, refuses a name that is not plain,
// and passes shellcheck and `sh -n` for apt and dnf releases. The image, its flattening and the
// cache of the layer run for real in tests/e2e/oci.sh.
#include "toolchains/runtime_rootfs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "../support/shell_capture.hpp"
#include "../support/temp_dir.hpp"
#include "slurm_factory/errors.hpp"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

sf::ToolchainRelease release(sf::PackageManager pm) {
  sf::ToolchainRelease r;
  r.name = pm == sf::PackageManager::kApt ? "trixie" : "rockylinux9";
  r.package_manager = pm;
  return r;
}

void lint(const std::string& script) {
  sf::test::TempDir dir("sf-runtime-script");
  const auto file = dir / "setup.sh";
  std::ofstream(file) << script;
  const auto [sc, sc_out] =
      sf::test::capture_status_and_output("shellcheck --shell=sh " + file.string());
  EXPECT_EQ(sc, 0) << sc_out << "\n--- script ---\n" << script;
  const auto [sh, sh_out] = sf::test::capture_status_and_output("sh -n " + file.string());
  EXPECT_EQ(sh, 0) << sh_out;
}

TEST(RuntimeRootfs, AptInstallsOnlyMissingPackagesAndCleansUp) {
  const auto s = sf::runtime_setup_script(release(sf::PackageManager::kApt),
                                          {"libpam0g", "libsystemd0", "libpam0g"});
  EXPECT_THAT(s, HasSubstr("for p in libpam0g libsystemd0; do"));
  EXPECT_THAT(s, HasSubstr("dpkg-query -W"));
  EXPECT_THAT(s, HasSubstr("apt-get install -y --no-install-recommends $missing"));
  EXPECT_THAT(s, HasSubstr("rm -rf /var/lib/apt/lists/*"));
  lint(s);
}

TEST(RuntimeRootfs, DnfInstallsOnlyMissingPackages) {
  const auto s =
      sf::runtime_setup_script(release(sf::PackageManager::kDnf), {"pam", "systemd-libs"});
  EXPECT_THAT(s, HasSubstr("rpm -q \"$p\""));
  EXPECT_THAT(s, HasSubstr("dnf -y --setopt=install_weak_deps=False"));
  EXPECT_THAT(s, Not(HasSubstr("apt-get")));
  lint(s);
}

TEST(RuntimeRootfs, NoPackagesRunsNothing) {
  const auto s = sf::runtime_setup_script(release(sf::PackageManager::kApt), {});
  EXPECT_THAT(s, HasSubstr("exit 0"));
  EXPECT_THAT(s, Not(HasSubstr("apt-get")));
  lint(s);
}

TEST(RuntimeRootfs, RefusesANameThatIsNotPlain) {
  for (const char* bad : {"libpam0g; rm -rf /", "$(id)", "-o", "", "a b", "x'y"}) {
    EXPECT_THROW(sf::runtime_setup_script(release(sf::PackageManager::kApt), {bad}), sf::UsageError)
        << bad;
  }
}

}  // namespace
