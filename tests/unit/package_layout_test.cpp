#include "package_layout.hpp"

#include <gtest/gtest.h>

using sf::pkg::Role;
using sf::pkg::role_of;

TEST(DebLayout, DaemonsGoToTheirOwnPackages) {
  EXPECT_EQ(role_of("view/sbin/slurmctld", false), Role::kSlurmctld);
  EXPECT_EQ(role_of("view/sbin/slurmd", false), Role::kSlurmd);
  EXPECT_EQ(role_of("view/sbin/slurmstepd", false), Role::kSlurmd);
  EXPECT_EQ(role_of("view/sbin/slurmdbd", false), Role::kSlurmdbd);
  EXPECT_EQ(role_of("view/sbin/slurmrestd", false), Role::kSlurmrestd);
}

TEST(DebLayout, ClientsAndMungeTools) {
  EXPECT_EQ(role_of("view/bin/sinfo", false), Role::kClient);
  EXPECT_EQ(role_of("view/bin/srun", false), Role::kClient);
  EXPECT_EQ(role_of("view/sbin/sackd", false), Role::kClient);
  // munge's programs stay with libmunge in the common package
  EXPECT_EQ(role_of("view/bin/munge", false), Role::kCommon);
  EXPECT_EQ(role_of("view/bin/unmunge", false), Role::kCommon);
  EXPECT_EQ(role_of("view/sbin/munged", false), Role::kCommon);
}

TEST(DebLayout, LibrariesModulesAndAssetsAreCommon) {
  EXPECT_EQ(role_of("view/lib/libslurm.so.42", false), Role::kCommon);
  EXPECT_EQ(role_of("view/lib/slurm/select_cons_tres.so", false), Role::kCommon);
  EXPECT_EQ(role_of("modules/slurm/24.11.5-trixie.lua", false), Role::kCommon);
  EXPECT_EQ(role_of("data/slurm_assets/slurm_install.sh", false), Role::kCommon);
  // a name that only starts like a daemon is not one
  EXPECT_EQ(role_of("view/sbin/slurmd.bak", false), Role::kCommon);
}

TEST(DebLayout, DevelopmentFilesOnlyWithDev) {
  EXPECT_EQ(role_of("view/include/slurm/slurm.h", true), Role::kDev);
  EXPECT_EQ(role_of("view/lib/pkgconfig/slurm.pc", true), Role::kDev);
  EXPECT_EQ(role_of("view/lib/libslurm.la", true), Role::kDev);
  EXPECT_EQ(role_of("view/lib/libslurm.so.42", true), Role::kCommon);
  EXPECT_EQ(role_of("view/lib/pkgconfig/slurm.pc", false), Role::kCommon);
}

TEST(DebLayout, RoleNamesAndUnits) {
  EXPECT_EQ(sf::pkg::all_roles().front(), Role::kCommon);
  EXPECT_EQ(sf::pkg::all_roles().size(), 7U);
  EXPECT_EQ(sf::pkg::role_name(Role::kSlurmrestd), "slurmrestd");
  EXPECT_EQ(sf::pkg::role_unit(Role::kSlurmd), "slurmd");
  EXPECT_EQ(sf::pkg::role_unit(Role::kClient), "");
  EXPECT_EQ(sf::pkg::role_unit(Role::kCommon), "");
}
