// The "deb" packager: split .deb packages of the staged artifact tree (package_layout.hpp),
// installed under the install root (default the artifact's, /opt/slurm: the view in
// /opt/slurm/view), with systemd units, the slurm user made in postinst and a one-node /etc/slurm
// on first install, Depends from the OS packages of the libraries the view does not bundle. Each
// package is reproducible (sorted entries, fixed mtime, owner 0) and written atomically into the
// output folder as <name>_<version>_<arch>.deb. docs/packaging.md.
//
// Settings (packagers.deb): name_prefix (slurm-factory-), install_root (the artifact's),
// revision (1), maintainer, compression (gzip | xz | zstd).
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "apt_repository.hpp"
#include "ar_archive.hpp"
#include "deb_control.hpp"
#include "install_scripts.hpp"
#include "package_layout.hpp"
#include "package_settings.hpp"
#include "package_trees.hpp"
#include "slurm_factory/archive_writer.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/packager.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace fs = std::filesystem;

namespace {

using sf::deb::DebSettings;
using sf::pkg::Role;

DebSettings parse_settings(const nlohmann::json& s) {
  return sf::pkg::parse_package_settings(
      s, "deb", {"gzip", "xz", "zstd"},
      "use gzip (default: every dpkg and lintian), xz (smaller, slower) or zstd (fastest; dpkg "
      "1.21.18+ and Ubuntu, not lintian)");
}

[[noreturn]] void fail(const std::string& what, const fs::path& where) {
  throw sf::PackagingError(what, {{"packager", "deb"}, {"file", where.string()}},
                           "check free space and permissions of the output folder");
}

// "Sat, 01 Jan 2000 00:00:00 +0000" (a changelog's date line).
std::string rfc2822(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

// Lintian's tags that are choices of this tool, not faults: /opt is where add-on software goes
// (FHS), the view bundles the libraries the OS lacks so it runs from any prefix, and the programs
// keep their symbol tables (debug info is split at build) for Slurm's own backtraces.
std::string lintian_overrides(const std::string& pkg, Role r) {
  auto tag = [&pkg](const std::string& t) { return pkg + ": " + t + "\n"; };
  std::string o =
      "# slurm-factory: a relocatable view under the install root (FHS: add-on software)\n" +
      tag("dir-or-file-in-opt");
  if (r == Role::kCommon || r == Role::kDev) {
    o += "# the view bundles the libraries the target OS lacks (docs/packaging.md)\n" +
         tag("embedded-library") + "# Slurm plugins that call no libc function\n" +
         tag("library-not-linked-against-libc") + tag("shared-library-lacks-prerequisites") +
         "# Slurm's HTML manual as upstream ships it (its web search, jQuery)\n" +
         tag("privacy-breach-generic") + tag("embedded-javascript-library");
  }
  if (r != Role::kDev) {
    o += "# symbol tables kept for backtraces; debug info split at build (.gnu_debuglink)\n" +
         tag("unstripped-binary-or-object");
  }
  return o;
}

class DebPackager : public sf::Packager {
 public:
  explicit DebPackager(const nlohmann::json& settings) : settings_(parse_settings(settings)) {}

  std::string name() const override { return "deb"; }
  std::string extension() const override { return ".deb"; }

  sf::PackageOutput package(const sf::PackageInput& input) override {
    const sf::ArtifactDescription& a = input.artifact;
    if (a.slurm_version.empty() || a.arch.empty() || a.toolchain.empty()) {
      throw sf::PackagingError("the deb packager needs the artifact's description (ABI 3.1)",
                               {{"packager", "deb"}}, "run it from slurm-factory 3.1 or newer");
    }
    sf::pkg::PackageTrees trees(input, settings_.install_root, "deb",
                                sf::pkg::LibraryMode::kNotExecutable);
    const std::string& root = trees.install_root();
    const std::string version =
        sf::deb::debian_version(a.slurm_version, settings_.revision, a.toolchain);

    sf::PackageOutput out;
    const std::string common = sf::deb::package_name(settings_, a.gpu, Role::kCommon);
    for (Role r : sf::pkg::all_roles()) {
      sf::pkg::PackageTree& t = trees.tree(r);
      if (t.tree_files == 0) continue;
      const std::string pkg = sf::deb::package_name(settings_, a.gpu, r);
      const auto conffiles = add_generated_files(t, r, pkg, input.root, trees, a, input.mtime);
      out.files.push_back(
          write_deb(trees.work(), t, conffiles, r, pkg, common, version, root, a, input));
    }
    return out;
  }

 private:
  // The files of a package that are not the artifact's: copyright, changelog, lintian overrides,
  // the daemon's unit, the clients' profile script. Returns the package's conffiles.
  std::vector<std::string> add_generated_files(sf::pkg::PackageTree& t, Role r,
                                               const std::string& pkg, const fs::path& tree,
                                               const sf::pkg::PackageTrees& trees,
                                               const sf::ArtifactDescription& a,
                                               std::int64_t mtime) const {
    const std::string& root = trees.install_root();
    std::vector<std::string> conffiles;
    const fs::path doc = t.root / "usr/share/doc" / pkg;
    const std::string changelog =
        pkg + " (" + sf::deb::debian_version(a.slurm_version, settings_.revision, a.toolchain) +
        ") " + a.toolchain + "; urgency=medium\n\n  * Slurm " + a.slurm_version + " for " +
        a.os_name + ",\n    built by slurm-factory " + a.builder_version + ".\n\n -- " +
        settings_.maintainer + "  " + rfc2822(sf::pkg::package_mtime(mtime)) + "\n";
    auto gz = sf::gzip_bytes(changelog);
    if (!gz) fail(gz.error().message, doc / "changelog.Debian.gz");
    sf::pkg::write_package_file(doc / "changelog.Debian.gz", *gz, fs::perms(0644), "deb");
    sf::pkg::write_package_file(t.root / "usr/share/lintian/overrides" / pkg,
                                lintian_overrides(pkg, r), fs::perms(0644), "deb");
    sf::pkg::write_package_file(
        doc / "copyright",
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        "Upstream-Name: Slurm\nSource: https://github.com/SchedMD/slurm\n\n"
        "Files: *\nCopyright: 2010-2025 SchedMD LLC <https://www.schedmd.com>\n"
        " 2002-2010 Lawrence Livermore National Security, LLC\n"
        " The bundled libraries: their authors (" +
            root +
            "/view/share/doc)\n"
            "License: GPL-2+ with OpenSSL exception\n"
            " Slurm is free software under the GNU General Public License version 2 or later,\n"
            " with an exception allowing linking with OpenSSL. On Debian systems the GPL-2 is in\n"
            " /usr/share/common-licenses/GPL-2. Built by slurm-factory " +
            a.builder_version + ".\n",
        fs::perms(0644), "deb");
    t.bytes += 600;
    const std::string unit = sf::pkg::role_unit(r);
    if (!unit.empty()) {
      const fs::path from = tree / "data/slurm_assets/defaults" / (unit + ".service");
      if (fs::is_regular_file(from)) {
        sf::pkg::write_package_file(
            t.root / "usr/lib/systemd/system" / (unit + ".service"),
            sf::pkg::replace_root(sf::pkg::read_text_file(from), trees.build_root(), root),
            fs::perms(0644), "deb");
      }
    }
    if (r == Role::kClient) {
      const std::string conf = "/etc/profile.d/" + pkg + ".sh";
      sf::pkg::write_package_file(t.root / conf.substr(1), sf::pkg::profile_script(root),
                                  fs::perms(0644), "deb");
      conffiles.push_back(conf);
    }
    return conffiles;
  }

  fs::path write_deb(const fs::path& work, const sf::pkg::PackageTree& t,
                     const std::vector<std::string>& conffiles, Role r, const std::string& pkg,
                     const std::string& common, const std::string& version, const std::string& root,
                     const sf::ArtifactDescription& a, const sf::PackageInput& input) const {
    const fs::path dir = work / sf::pkg::role_name(r);
    sf::ArchiveWriteOptions o;
    o.compression = settings_.compression == "xz"     ? sf::ArchiveCompression::kXz
                    : settings_.compression == "gzip" ? sf::ArchiveCompression::kGzip
                                                      : sf::ArchiveCompression::kZstd;
    o.level = settings_.compression == "zstd" ? 3 : 6;
    o.fixed_mtime = sf::pkg::package_mtime(input.mtime);
    o.numeric_owner_zero = true;
    o.hash_files = false;
    std::map<std::string, std::string> md5;
    o.on_file = [&md5](const std::string& path, std::string_view content) {
      md5[path] = sf::md5_hex(content);
    };
    const std::string ext = settings_.compression == "xz"     ? "xz"
                            : settings_.compression == "gzip" ? "gz"
                                                              : "zst";
    const fs::path data_tar = dir / ("data.tar." + ext);
    if (auto w = sf::write_archive(t.root, data_tar, o); !w) fail(w.error().message, data_tar);

    const fs::path control = dir / "control";
    sf::deb::ControlFields f;
    f.package = pkg;
    f.version = version;
    f.arch = a.arch;
    f.maintainer = settings_.maintainer;
    f.installed_kib = (t.bytes + 1023) / 1024;
    f.depends = r == Role::kCommon ? sf::deb::common_depends(a.system_packages)
                                   : sf::deb::role_depends(common, version, a.system_packages);
    if (!a.gpu.empty()) f.conflicts = sf::deb::package_name(settings_, {}, r);
    const std::string flavour = a.gpu.empty() ? "" : " with " + [&a] {
      std::string g;
      for (const auto& x : a.gpu) g += (g.empty() ? "" : "+") + x;
      return g;
    }();
    f.summary = "Slurm " + a.slurm_version + flavour + ": " + sf::pkg::role_summary(r);
    f.description = "The Slurm workload manager " + a.slurm_version + ", built by slurm-factory " +
                    a.builder_version + "\nfor " + a.os_name + ". Relocatable: installed in " +
                    root + "/view,\nmodulefiles in " + root + "/modules.";
    sf::pkg::write_package_file(control / "control", sf::deb::control_text(f), fs::perms(0644),
                                "deb");
    sf::pkg::write_package_file(control / "md5sums", sf::deb::md5sums_text(md5), fs::perms(0644),
                                "deb");
    if (!conffiles.empty()) {
      std::string c;
      for (const auto& x : conffiles) c += x + "\n";
      sf::pkg::write_package_file(control / "conffiles", c, fs::perms(0644), "deb");
    }
    sf::deb::ScriptContext sc{r, root, sf::pkg::role_unit(r), "/var/lib/" + pkg};
    const std::pair<const char*, std::string> scripts[] = {
        {"postinst", sf::deb::postinst_script(sc)},
        {"prerm", sf::deb::prerm_script(sc)},
        {"postrm", sf::deb::postrm_script(sc)}};
    for (const auto& [name, text] : scripts) {
      if (!text.empty()) {
        sf::pkg::write_package_file(control / name, text, fs::perms(0755), "deb");
      }
    }
    o.on_file = nullptr;
    const fs::path control_tar = dir / ("control.tar." + ext);
    if (auto w = sf::write_archive(control, control_tar, o); !w)
      fail(w.error().message, control_tar);

    const fs::path deb = input.output_dir / (pkg + "_" + version + "_" + a.arch + ".deb");
    const fs::path tmp = dir / "out.deb";
    const std::string problem =
        sf::deb::write_ar(tmp,
                          {{"debian-binary", "2.0\n", {}},
                           {control_tar.filename().string(), "", control_tar},
                           {data_tar.filename().string(), "", data_tar}},
                          sf::pkg::package_mtime(input.mtime));
    if (!problem.empty()) fail(problem, tmp);
    std::error_code ec;
    fs::rename(tmp, deb, ec);
    if (ec) fail("cannot move the package into place: " + ec.message(), deb);
    return deb;
  }

  DebSettings settings_;
};

void register_deb(sf::Registry& registry) {
  registry.add_packager("deb", [](const nlohmann::json& settings) {
    return std::make_unique<DebPackager>(settings);
  });
  registry.add_package_repository("deb", sf::deb::make_apt_repository);
}

}  // namespace

SLURM_FACTORY_PLUGIN(
    "packager-deb", "1.0.0",
    "Split .deb packages (common, client, slurmctld, slurmd, slurmdbd, slurmrestd, "
    "dev) of the artifact, with systemd units and maintainer scripts, and their "
    "signed APT repository",
    register_deb)
