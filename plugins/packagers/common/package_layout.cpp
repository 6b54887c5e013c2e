#include "package_layout.hpp"

#include <array>

namespace sf::pkg {

namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

}  // namespace

const std::vector<Role>& all_roles() {
  static const std::vector<Role> roles{Role::kCommon, Role::kClient,   Role::kSlurmctld,
                                       Role::kSlurmd, Role::kSlurmdbd, Role::kSlurmrestd,
                                       Role::kDev};
  return roles;
}

std::string role_name(Role role) {
  switch (role) {
    case Role::kCommon:
      return "common";
    case Role::kClient:
      return "client";
    case Role::kSlurmctld:
      return "slurmctld";
    case Role::kSlurmd:
      return "slurmd";
    case Role::kSlurmdbd:
      return "slurmdbd";
    case Role::kSlurmrestd:
      return "slurmrestd";
    case Role::kDev:
      return "dev";
  }
  return "common";
}

std::string role_unit(Role role) {
  switch (role) {
    case Role::kSlurmctld:
    case Role::kSlurmd:
    case Role::kSlurmdbd:
    case Role::kSlurmrestd:
      return role_name(role);
    default:
      return "";
  }
}

std::string role_summary(Role role) {
  switch (role) {
    case Role::kCommon:
      return "libraries, plugins, modulefiles and install assets";
    case Role::kClient:
      return "client commands (sinfo, squeue, srun, sbatch, ...)";
    case Role::kSlurmctld:
      return "central controller daemon";
    case Role::kSlurmd:
      return "compute node daemon";
    case Role::kSlurmdbd:
      return "accounting database daemon";
    case Role::kSlurmrestd:
      return "REST API daemon";
    case Role::kDev:
      return "headers and development files";
  }
  return "";
}

Role role_of(const std::string& relative, bool with_dev) {
  static const std::array<std::pair<const char*, Role>, 6> daemons{{
      {"view/sbin/slurmctld", Role::kSlurmctld},
      {"view/sbin/slurmd", Role::kSlurmd},
      {"view/sbin/slurmstepd", Role::kSlurmd},
      {"view/sbin/slurmdbd", Role::kSlurmdbd},
      {"view/sbin/slurmrestd", Role::kSlurmrestd},
      {"view/sbin/sackd", Role::kClient},
  }};
  for (const auto& [path, role] : daemons) {
    if (relative == path) return role;
  }
  if (starts_with(relative, "view/bin/")) {
    // munge's own programs stay with the library they serve (the OS's munged runs the service).
    const std::string name = relative.substr(9);
    if (name == "munge" || name == "unmunge" || name == "remunge") return Role::kCommon;
    return Role::kClient;
  }
  if (with_dev) {
    if (starts_with(relative, "view/include/") || starts_with(relative, "view/lib/pkgconfig/") ||
        (starts_with(relative, "view/lib/") &&
         (ends_with(relative, ".a") || ends_with(relative, ".la")))) {
      return Role::kDev;
    }
  }
  return Role::kCommon;
}

}  // namespace sf::pkg
