// How the staged artifact tree splits into OS packages (.deb, .rpm), in the shape admins know from
// SchedMD's packaging: a common package (libraries, plugins, munge's programs, modulefiles,
// assets), then one per daemon, the clients, and -dev when the view keeps development files.
#pragma once

#include <string>
#include <vector>

namespace sf::pkg {

enum class Role { kCommon, kClient, kSlurmctld, kSlurmd, kSlurmdbd, kSlurmrestd, kDev };

// Every role, common first.
const std::vector<Role>& all_roles();
// "common", "client", "slurmctld", ...
std::string role_name(Role role);
// The daemon whose systemd unit the role installs ("slurmd"), "" for none.
std::string role_unit(Role role);
// One line of the package's description.
std::string role_summary(Role role);

// The role a path of the staged tree belongs to ("view/sbin/slurmd" -> kSlurmd). `with_dev`:
// the view keeps development files (include/), which then go to the -dev package.
Role role_of(const std::string& relative, bool with_dev);

}  // namespace sf::pkg
