#include "deb_control.hpp"

#include <set>
#include <sstream>

#include "install_scripts.hpp"
#include "slurm_factory/shell_quote.hpp"

namespace sf::deb {

namespace {

std::string header(const ScriptContext& c, const char* which) {
  return "#!/bin/sh\n# " + std::string(which) + " of the " + pkg::role_name(c.role) +
         " package, written by slurm-factory's deb packager.\nset -e\n";
}

// dh_installsystemd's snippets, without debhelper: enable on first install (unless the admin
// disabled or masked it), restart on upgrade, all only where systemd runs.
std::string systemd_postinst(const std::string& unit) {
  const std::string u = shell_quote(unit + ".service");
  return "if [ \"$1\" = configure ] || [ \"$1\" = abort-upgrade ] || "
         "[ \"$1\" = abort-deconfigure ] || [ \"$1\" = abort-remove ]; then\n"
         "  if command -v deb-systemd-helper >/dev/null 2>&1; then\n"
         "    deb-systemd-helper unmask " +
         u +
         " >/dev/null || true\n"
         "    if deb-systemd-helper --quiet was-enabled " +
         u +
         "; then\n"
         "      deb-systemd-helper enable " +
         u +
         " >/dev/null || true\n"
         "    else\n"
         "      deb-systemd-helper update-state " +
         u +
         " >/dev/null || true\n"
         "    fi\n"
         "  fi\n"
         "  if [ -d /run/systemd/system ]; then\n"
         "    systemctl --system daemon-reload >/dev/null || true\n"
         "    if [ -n \"$2\" ]; then action=restart; else action=start; fi\n"
         "    deb-systemd-invoke \"$action\" " +
         u +
         " >/dev/null || true\n"
         "  fi\n"
         "fi\n";
}

}  // namespace

std::string debian_version(const std::string& slurm_version, const std::string& revision,
                           const std::string& toolchain) {
  std::string upstream = slurm_version;
  // 24.11.0-rc1: a pre-release sorts before 24.11.0 with '~'; 24.11.5-2 (a SchedMD re-tag) keeps
  // its number after a '.'
  if (const auto dash = upstream.find('-'); dash != std::string::npos) {
    const std::string tail = upstream.substr(dash + 1);
    upstream = upstream.substr(0, dash) +
               (tail.rfind("rc", 0) == 0 || tail.rfind("pre", 0) == 0 ? "~" + tail : "." + tail);
  }
  return upstream + "-" + revision + "+" + toolchain;
}

std::string upstream_version(const std::string& version) {
  const auto dash = version.rfind('-');
  return dash == std::string::npos ? version : version.substr(0, dash);
}

std::string package_name(const DebSettings& settings, const std::vector<std::string>& gpu,
                         Role role) {
  std::string name = settings.name_prefix;
  for (const auto& g : gpu) name += g + "-";
  return name + pkg::role_name(role);
}

std::string common_depends(const std::vector<SystemLibraryPackage>& system_packages) {
  std::map<std::string, std::string> least;  // package -> upstream version
  for (const auto& s : system_packages) {
    if (s.package.empty()) continue;
    least[s.package] = s.version.empty() ? "" : upstream_version(s.version);
  }
  least.emplace("munge", "");
  std::string out;
  for (const auto& [pkg, version] : least) {
    if (!out.empty()) out += ", ";
    out += pkg;
    if (!version.empty()) out += " (>= " + version + ")";
  }
  return out;
}

std::string role_depends(const std::string& common, const std::string& version,
                         const std::vector<SystemLibraryPackage>& system_packages) {
  std::string out = common + " (= " + version + ")";
  for (const auto& s : system_packages) {
    if (s.soname != "libc.so.6" || s.package.empty()) continue;
    out += ", " + s.package;
    if (!s.version.empty()) out += " (>= " + upstream_version(s.version) + ")";
    break;
  }
  return out;
}

std::string control_text(const ControlFields& f) {
  std::ostringstream out;
  out << "Package: " << f.package << "\n"
      << "Version: " << f.version << "\n"
      << "Architecture: " << f.arch << "\n"
      << "Maintainer: " << f.maintainer << "\n"
      << "Installed-Size: " << f.installed_kib << "\n";
  if (!f.depends.empty()) out << "Depends: " << f.depends << "\n";
  if (!f.conflicts.empty()) {
    out << "Conflicts: " << f.conflicts << "\nReplaces: " << f.conflicts
        << "\nProvides: " << f.conflicts << "\n";
  }
  out << "Section: admin\nPriority: optional\nHomepage: https://slurm.schedmd.com/\n"
      << "Description: " << f.summary << "\n";
  std::istringstream lines(f.description);
  std::string line;
  while (std::getline(lines, line)) out << " " << (line.empty() ? "." : line) << "\n";
  return out.str();
}

std::string postinst_script(const ScriptContext& c) {
  if (c.role != Role::kCommon && c.unit.empty()) return "";
  std::string s = header(c, "postinst");
  if (c.role == Role::kCommon) {
    s += "if [ \"$1\" = configure ]; then\n" + pkg::create_slurm_user_sh() +
         pkg::first_install_config_sh(c.root, c.state_dir) + "fi\n";
  }
  if (!c.unit.empty()) s += systemd_postinst(c.unit);
  return s + "exit 0\n";
}

std::string prerm_script(const ScriptContext& c) {
  if (c.unit.empty()) return "";
  return header(c, "prerm") +
         "if [ -d /run/systemd/system ] && [ \"$1\" = remove ]; then\n"
         "  deb-systemd-invoke stop " +
         shell_quote(c.unit + ".service") +
         " >/dev/null || true\n"
         "fi\nexit 0\n";
}

std::string postrm_script(const ScriptContext& c) {
  std::string s = header(c, "postrm");
  if (!c.unit.empty()) {
    const std::string u = shell_quote(c.unit + ".service");
    s += "if [ -d /run/systemd/system ]; then\n"
         "  systemctl --system daemon-reload >/dev/null || true\n"
         "fi\n"
         "if command -v deb-systemd-helper >/dev/null 2>&1; then\n"
         "  if [ \"$1\" = remove ]; then deb-systemd-helper mask " +
         u +
         " >/dev/null || true; fi\n"
         "  if [ \"$1\" = purge ]; then\n"
         "    deb-systemd-helper purge " +
         u +
         " >/dev/null || true\n"
         "    deb-systemd-helper unmask " +
         u +
         " >/dev/null || true\n"
         "  fi\n"
         "fi\n";
  }
  if (c.role == Role::kCommon) {
    s += "if [ \"$1\" = purge ]; then\n" + pkg::remove_generated_sh(c.state_dir) + "fi\n";
  }
  if (c.unit.empty() && c.role != Role::kCommon) return "";
  return s + "exit 0\n";
}

std::string md5sums_text(const std::map<std::string, std::string>& md5_by_path) {
  std::string out;
  for (const auto& [path, md5] : md5_by_path) {
    out += md5 + "  " + (path.rfind('/', 0) == 0 ? path.substr(1) : path) + "\n";
  }
  return out;
}

}  // namespace sf::deb
