// The images' entrypoint script: the install root in place, POSIX sh that shellcheck accepts, and
// the refusal of an unknown role before anything starts. It runs for real in every image of
// tests/e2e/oci.sh (munged, the daemons, slurmdbd's private configuration, a missing key).
#include "oci_entrypoint.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/shell_capture.hpp"
#include "../support/temp_dir.hpp"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(OciEntrypoint, NamesTheViewUnderTheInstallRoot) {
  const std::string s = sf::oci::entrypoint_script("/srv/slurm");
  EXPECT_THAT(s, HasSubstr("view='/srv/slurm/view'"));
  EXPECT_THAT(s, Not(HasSubstr("@ROOT@")));
  EXPECT_EQ(s.rfind("#!/bin/sh\n", 0), 0U);
}

TEST(OciEntrypoint, PassesShellcheckAndShSyntax) {
  sf::test::TempDir dir("sf-oci-entrypoint");
  sf::test::write_file(dir / "entrypoint", sf::oci::entrypoint_script("/opt/slurm"));
  const auto [sc, sc_out] = sf::test::capture_status_and_output(
      "shellcheck --shell=sh --severity=style " + (dir / "entrypoint").string());
  EXPECT_EQ(sc, 0) << sc_out;
  const auto [sh, sh_out] =
      sf::test::capture_status_and_output("sh -n " + (dir / "entrypoint").string());
  EXPECT_EQ(sh, 0) << sh_out;
}

TEST(OciEntrypoint, AnUnknownRoleIsRefusedAndNamed) {
  sf::test::TempDir dir("sf-oci-entrypoint");
  sf::test::write_file(dir / "entrypoint", sf::oci::entrypoint_script("/opt/slurm"));
  const auto [rc, out] =
      sf::test::capture_status_and_output("sh " + (dir / "entrypoint").string() + " slurmx");
  EXPECT_EQ(rc, 1);
  EXPECT_THAT(out, HasSubstr("unknown role 'slurmx'"));
}

}  // namespace
