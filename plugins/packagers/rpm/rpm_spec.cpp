#include "rpm_spec.hpp"

#include <map>

#include "install_scripts.hpp"

namespace sf::rpm {

namespace {

// A value from outside (a release's os_name, a version) as spec text: '%' doubled so rpm expands
// no macro in it, control characters as spaces so it stays on its line.
std::string spec_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += ' ';
    } else {
      out += c;
      if (c == '%') out += '%';
    }
  }
  return out;
}

std::string flavour(const std::vector<std::string>& gpu) {
  std::string g;
  for (const auto& x : gpu) g += (g.empty() ? "" : "+") + x;
  return g.empty() ? "" : " with " + g;
}

// The scriptlets of one package, as %systemd_post / %systemd_preun / %systemd_postun_with_restart
// expand on EL (without needing those macros on the building host).
std::string scriptlets(const SpecPackage& p, const SpecInput& in) {
  const std::string n = p.role == Role::kCommon ? "" : " -n " + p.name;
  const std::string state = "/var/lib/" + p.name;
  std::string s;
  if (p.role == Role::kCommon) {
    s += "%pre" + n + "\n" + pkg::create_slurm_user_sh() + "exit 0\n\n";
    s += "%post" + n + "\n" + pkg::first_install_config_sh(in.root, state) + "exit 0\n\n";
    s += "%postun" + n + "\nif [ \"$1\" -eq 0 ]; then\n" + pkg::remove_generated_sh(state) +
         "fi\nexit 0\n\n";
  }
  if (!p.unit.empty()) {
    const std::string u = p.unit + ".service";
    s += "%post" + n +
         "\nif [ \"$1\" -eq 1 ] && [ -d /run/systemd/system ]; then\n"
         "  systemctl daemon-reload >/dev/null 2>&1 || :\n"
         "  systemctl --no-reload preset " +
         u +
         " >/dev/null 2>&1 || :\n"
         "fi\nexit 0\n\n";
    s += "%preun" + n +
         "\nif [ \"$1\" -eq 0 ] && [ -d /run/systemd/system ]; then\n"
         "  systemctl --no-reload disable --now " +
         u +
         " >/dev/null 2>&1 || :\n"
         "fi\nexit 0\n\n";
    s += "%postun" + n +
         "\nif [ -d /run/systemd/system ]; then\n"
         "  systemctl daemon-reload >/dev/null 2>&1 || :\n"
         "  if [ \"$1\" -ge 1 ]; then systemctl try-restart " +
         u +
         " >/dev/null 2>&1 || :; fi\n"
         "fi\nexit 0\n\n";
  }
  return s;
}

}  // namespace

std::string rpm_version(const std::string& slurm_version) {
  const auto dash = slurm_version.find('-');
  if (dash == std::string::npos) return slurm_version;
  const std::string tail = slurm_version.substr(dash + 1);
  const bool pre = tail.rfind("rc", 0) == 0 || tail.rfind("pre", 0) == 0;
  return slurm_version.substr(0, dash) + (pre ? "~" : ".") + tail;
}

std::string rpm_release(const std::string& revision, const std::string& toolchain) {
  std::string t = toolchain;
  for (char& c : t) {
    if (c == '-') c = '_';
  }
  return revision + "." + t;
}

std::string rpm_arch(const std::string& debian_arch) {
  if (debian_arch == "amd64") return "x86_64";
  if (debian_arch == "arm64") return "aarch64";
  return debian_arch;
}

std::string package_name(const RpmSettings& settings, const std::vector<std::string>& gpu,
                         Role role) {
  std::string name = settings.name_prefix;
  for (const auto& g : gpu) name += g + "-";
  return name + pkg::role_name(role);
}

std::vector<std::string> common_requires(const std::vector<SystemLibraryPackage>& system_packages,
                                         const std::string& debian_arch) {
  const bool bits64 = debian_arch == "amd64" || debian_arch == "arm64";
  std::vector<std::string> out;
  for (const auto& s : system_packages) {
    out.push_back(s.soname + "()" + (bits64 ? "(64bit)" : ""));
  }
  out.emplace_back("munge");
  return out;
}

std::string files_line(const std::string& path, bool config, bool dir) {
  std::string escaped;
  for (char c : path) {
    escaped += c;
    if (c == '%') escaped += '%';
  }
  std::string prefix = dir ? "%dir " : config ? "%config(noreplace) " : "";
  return prefix + "\"" + escaped + "\"\n";
}

std::string spec_text(const SpecInput& in) {
  ArtifactDescription a = in.artifact;
  for (std::string* v : {&a.slurm_version, &a.toolchain, &a.os_name, &a.builder_version}) {
    *v = spec_value(*v);
  }
  for (auto& g : a.gpu) g = spec_value(g);
  const SpecPackage& main = in.packages.front();
  const std::string version = rpm_version(a.slurm_version);
  const std::string description = "The Slurm workload manager " + a.slurm_version +
                                  ", built by slurm-factory " + a.builder_version + "\nfor " +
                                  a.os_name + ". Relocatable: installed in " + in.root +
                                  "/view,\nmodulefiles in " + in.root + "/modules.\n";
  std::string s =
      "# Written by slurm-factory's rpm packager: the view of one build, packed as it is.\n"
      "%global _build_id_links none\n"
      "%global debug_package %{nil}\n"
      "%global __os_install_post %{nil}\n"
      "%global __arch_install_post %{nil}\n"
      "%global __spec_install_pre %{nil}\n"
      "%global _binary_payload " +
      in.compression_macro +
      "\n"
      "%global _buildhost slurm-factory\n"
      "%global clamp_mtime_to_source_date_epoch 1\n"
      "%global use_source_date_epoch_as_buildtime 1\n"
      "%global _source_date_epoch_from_changelog 0\n\n"
      "Name: " +
      main.name + "\nVersion: " + version +
      "\nRelease: " + rpm_release(in.settings.revision, a.toolchain) +
      "\nSummary: " + spec_value(main.summary) +
      "\nLicense: GPL-2.0-or-later\nGroup: System Environment/Base\n"
      "URL: https://slurm.schedmd.com/\nPackager: " +
      in.settings.maintainer + "\nAutoReqProv: no\n";
  for (const auto& r : common_requires(a.system_packages, a.arch)) s += "Requires: " + r + "\n";
  s += "Requires(pre): shadow-utils\n";
  if (!a.gpu.empty()) {
    const std::string plain = package_name(in.settings, {}, Role::kCommon);
    s += "Provides: " + plain + "\nConflicts: " + plain + "\n";
  }
  s += "\n%description\n" + description + "\n";
  for (std::size_t i = 1; i < in.packages.size(); ++i) {
    const SpecPackage& p = in.packages[i];
    s += "%package -n " + p.name + "\nSummary: " + spec_value(p.summary) +
         "\nGroup: System Environment/Base\nRequires: " + main.name + " = %{version}-%{release}\n";
    if (!a.gpu.empty()) {
      const std::string plain = package_name(in.settings, {}, p.role);
      s += "Provides: " + plain + "\nConflicts: " + plain + "\n";
    }
    s += "\n%description -n " + p.name + "\n" + description + "\n";
  }
  for (const auto& p : in.packages) {
    s += "%files" + (p.role == Role::kCommon ? std::string() : " -n " + p.name) + " -f " +
         p.files_list + "\n\n";
  }
  for (const auto& p : in.packages) s += scriptlets(p, in);
  s += "%changelog\n* " + in.changelog_date + " " + in.settings.maintainer + " - " + version + "-" +
       rpm_release(in.settings.revision, a.toolchain) + "\n- Slurm " + a.slurm_version + " for " +
       a.os_name + flavour(a.gpu) + ", built by slurm-factory " + a.builder_version + ".\n";
  return s;
}

}  // namespace sf::rpm
