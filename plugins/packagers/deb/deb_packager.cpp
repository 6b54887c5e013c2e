// The "deb" packager: split .deb packages of the staged artifact tree (deb_layout.hpp), installed
// under the install root (default the artifact's, /opt/slurm: the view in /opt/slurm/view), with
// systemd units, the slurm user made in postinst and a one-node /etc/slurm on first install,
// Depends from the OS packages of the libraries the view does not bundle. Each package is
// reproducible (sorted entries, fixed mtime, owner 0) and written atomically into the output
// folder as <name>_<version>_<arch>.deb. docs/packaging.md.
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
#include "deb_layout.hpp"
#include "slurm_factory/archive_writer.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/packager.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace fs = std::filesystem;

namespace {

using sf::deb::DebSettings;
using sf::deb::Role;

[[noreturn]] void refuse(const std::string& key, const std::string& what, const std::string& fix) {
  throw sf::ConfigurationError("packagers.deb." + key + ": " + what,
                               {{"setting", "packagers.deb." + key}}, fix);
}

std::string setting(const nlohmann::json& s, const std::string& key, const std::string& dflt) {
  if (!s.is_object() || !s.contains(key)) return dflt;
  if (s[key].is_number_integer()) return std::to_string(s[key].get<long long>());
  if (!s[key].is_string()) refuse(key, "must be a string", "write e.g. " + key + ": " + dflt);
  return s[key].get<std::string>();
}

DebSettings parse_settings(const nlohmann::json& s) {
  static const std::set<std::string> known{"name_prefix", "install_root", "revision", "maintainer",
                                           "compression"};
  if (!s.is_null() && !s.is_object()) refuse("", "must be a mapping", "write packagers: {deb: {}}");
  if (s.is_object()) {
    for (const auto& [k, v] : s.items()) {
      if (known.count(k) == 0) {
        refuse(k, "unknown setting",
               "use name_prefix, install_root, revision, maintainer or compression");
      }
    }
  }
  DebSettings d;
  d.name_prefix = setting(s, "name_prefix", d.name_prefix);
  if (!std::regex_match(d.name_prefix, std::regex("([a-z0-9][a-z0-9.+-]*-)?")) ||
      d.name_prefix.size() > 40) {
    refuse("name_prefix", "'" + d.name_prefix + "' cannot start a Debian package name",
           "use lower-case letters, digits, '.', '+' and '-', ending in '-' (slurm-factory-)");
  }
  d.install_root = setting(s, "install_root", "");
  if (!d.install_root.empty() &&
      (!std::regex_match(d.install_root, std::regex("(/[A-Za-z0-9._+-]+)+")) ||
       d.install_root.find("/..") != std::string::npos ||
       d.install_root.find("/./") != std::string::npos)) {
    refuse("install_root", "'" + d.install_root + "' is not a plain absolute folder",
           "write e.g. install_root: /opt/slurm (the view goes to /opt/slurm/view)");
  }
  d.revision = setting(s, "revision", d.revision);
  if (!std::regex_match(d.revision, std::regex("[0-9][A-Za-z0-9.+~]{0,30}"))) {
    refuse("revision", "'" + d.revision + "' is not a Debian revision",
           "write a number such as revision: 2 (raise it for a rebuild of the same Slurm)");
  }
  d.maintainer = setting(s, "maintainer", d.maintainer);
  if (!std::regex_match(d.maintainer, std::regex("[^<>\\n]{1,80} <[^<>@\\s]+@[^<>@\\s]+>"))) {
    refuse("maintainer", "'" + d.maintainer + "' is not 'Name <address>'",
           "write e.g. maintainer: HPC team <hpc@example.org>");
  }
  d.compression = setting(s, "compression", d.compression);
  if (d.compression != "zstd" && d.compression != "xz" && d.compression != "gzip") {
    refuse("compression", "unknown compression '" + d.compression + "'",
           "use gzip (default: every dpkg and lintian), xz (smaller, slower) or zstd (fastest; "
           "dpkg 1.21.18+ and Ubuntu, not lintian)");
  }
  return d;
}

[[noreturn]] void fail(const std::string& what, const fs::path& where) {
  throw sf::PackagingError(what, {{"packager", "deb"}, {"file", where.string()}},
                           "check free space and permissions of the output folder");
}

void write_file(const fs::path& p, const std::string& text, fs::perms mode) {
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  std::ofstream o(p, std::ios::binary | std::ios::trunc);
  o << text;
  o.close();
  if (!o) fail("cannot write", p);
  fs::permissions(p, mode, ec);
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

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every occurrence of `from` as a path (followed by '/', a quote, white space or the end).
std::string replace_root(std::string text, const std::string& from, const std::string& to) {
  std::size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    const std::size_t end = pos + from.size();
    const char next = end < text.size() ? text[end] : '\n';
    if (next == '/' || next == '"' || next == '\'' ||
        std::isspace(static_cast<unsigned char>(next))) {
      text.replace(pos, from.size(), to);
      pos += to.size();
    } else {
      pos = end;
    }
  }
  return text;
}

bool is_shared_library(const std::string& rel) {
  const auto name = fs::path(rel).filename().string();
  return rel.rfind("view/lib/", 0) == 0 &&
         (name.size() > 3 && (name.ends_with(".so") || name.find(".so.") != std::string::npos));
}

// Debian's tools call a file older than 1975 "ancient"; the tree's own time (SOURCE_DATE_EPOCH)
// when later than 2000-01-01, else that day: the same bytes every time either way.
std::int64_t package_mtime(std::int64_t tree_mtime) {
  constexpr std::int64_t kFloor = 946684800;
  return tree_mtime > kFloor ? tree_mtime : kFloor;
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

struct PackageTree {
  fs::path data;  // the package's root ("/")
  std::uint64_t bytes = 0;
  std::size_t tree_files = 0;  // files from the artifact tree (a package with none is skipped)
  std::vector<std::string> conffiles;
};

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
    for (const char* required : {"view", "modules", "data"}) {
      if (!fs::is_directory(input.root / required))
        fail("the staged tree has no folder", input.root / required);
    }
    const std::string build_root = a.install_root.empty() ? "/opt/slurm" : a.install_root;
    const std::string root = settings_.install_root.empty() ? build_root : settings_.install_root;
    const std::string version =
        sf::deb::debian_version(a.slurm_version, settings_.revision, a.toolchain);
    const bool with_dev = fs::is_directory(input.root / "view/include");

    std::error_code ec;
    fs::create_directories(input.output_dir, ec);
    std::string tmpl =
        (input.output_dir / (".sf-tmp-" + std::to_string(::getpid()) + "-deb-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) fail("cannot create a work folder", input.output_dir);
    const fs::path work = tmpl;
    struct Cleanup {
      fs::path p;
      ~Cleanup() {
        std::error_code e;
        fs::remove_all(p, e);
      }
    } cleanup{work};

    // Text files that name the build root get the install root instead (copied, not linked).
    std::set<std::string> rewrite;
    if (root != build_root) rewrite = files_naming_root(input.root);

    std::map<Role, PackageTree> trees;
    for (Role r : sf::deb::all_roles()) trees[r].data = work / sf::deb::role_name(r) / "data";
    const fs::path base = fs::path(root).relative_path();
    for (auto it = fs::recursive_directory_iterator(input.root);
         it != fs::recursive_directory_iterator(); ++it) {
      const fs::path rel = it->path().lexically_relative(input.root);
      const std::string rels = rel.generic_string();
      // md5sums and conffiles are line based: a name with a control character cannot be listed.
      if (std::any_of(rels.begin(), rels.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
        throw sf::PackagingError("a file name in the view has a control character",
                                 {{"packager", "deb"}, {"file", rel.string()}},
                                 "rename or drop the file in its recipe and build again");
      }
      const auto status = it->symlink_status();
      PackageTree& t = trees[sf::deb::role_of(rels, with_dev)];
      const fs::path dest = t.data / base / rel;
      if (fs::is_directory(status)) continue;  // folders are made for what they hold
      fs::create_directories(dest.parent_path(), ec);
      if (fs::is_symlink(status)) {
        // "./x" and "x" name the same file; Debian's tools want the plain one.
        std::string target = fs::read_symlink(it->path()).string();
        while (target.rfind("./", 0) == 0) target.erase(0, 2);
        fs::create_symlink(target, dest, ec);
      } else if (fs::is_regular_file(status)) {
        const fs::perms mode = fs::status(it->path()).permissions();
        if (rewrite.count(rels) != 0) {
          write_file(dest, replace_root(read_text(it->path()), build_root, root), mode);
        } else if (is_shared_library(rels) && (mode & fs::perms::owner_exec) != fs::perms::none) {
          // Shared libraries are not programs (dh_fixperms): a copy, so the tree stays as built.
          fs::copy_file(it->path(), dest, ec);
          fs::permissions(dest, fs::perms(0644), ec);
        } else {
          fs::create_hard_link(it->path(), dest, ec);
          if (ec) {
            ec.clear();
            fs::copy_file(it->path(), dest, ec);
          }
        }
        t.bytes += fs::file_size(it->path(), ec);
      } else {
        continue;  // no device, FIFO or socket goes into a package
      }
      if (ec) fail("cannot stage " + rels + ": " + ec.message(), dest);
      ++t.tree_files;
    }
    if (root != build_root) {
      // slurm_install.sh --prefix reads where the text files point from this marker.
      write_file(trees[Role::kCommon].data / base / "data/slurm_assets/installed-prefix",
                 root + "\n", fs::perms(0644));
    }

    sf::PackageOutput out;
    const std::string common = sf::deb::package_name(settings_, a.gpu, Role::kCommon);
    for (Role r : sf::deb::all_roles()) {
      PackageTree& t = trees[r];
      if (t.tree_files == 0) continue;
      const std::string pkg = sf::deb::package_name(settings_, a.gpu, r);
      add_generated_files(t, r, pkg, input.root, build_root, root, a, input.mtime);
      out.files.push_back(write_deb(work, t, r, pkg, common, version, root, a, input));
    }
    return out;
  }

 private:
  // The relative paths of the tree's text files that name the build root: the modulefiles, the
  // units and the files data/slurm_assets/prefix-files.txt lists (what slurm_install.sh --prefix
  // rewrites).
  static std::set<std::string> files_naming_root(const fs::path& root) {
    std::set<std::string> out;
    std::error_code ec;
    for (const char* dir : {"modules/slurm", "data/slurm_assets/defaults"}) {
      for (const auto& e : fs::directory_iterator(root / dir, ec)) {
        if (e.is_regular_file() && !e.is_symlink())
          out.insert((fs::path(dir) / e.path().filename()).generic_string());
      }
    }
    std::ifstream list(root / "data/slurm_assets/prefix-files.txt");
    std::string line;
    while (std::getline(list, line)) {
      if (line.empty() || line.front() == '/' || line.find("..") != std::string::npos) continue;
      out.insert("view/" + line);
    }
    return out;
  }

  void add_generated_files(PackageTree& t, Role r, const std::string& pkg, const fs::path& tree,
                           const std::string& build_root, const std::string& root,
                           const sf::ArtifactDescription& a, std::int64_t mtime) const {
    const fs::path doc = t.data / "usr/share/doc" / pkg;
    const std::string changelog =
        pkg + " (" + sf::deb::debian_version(a.slurm_version, settings_.revision, a.toolchain) +
        ") " + a.toolchain + "; urgency=medium\n\n  * Slurm " + a.slurm_version + " for " +
        a.os_name + ",\n    built by slurm-factory " + a.builder_version + ".\n\n -- " +
        settings_.maintainer + "  " + rfc2822(package_mtime(mtime)) + "\n";
    auto gz = sf::gzip_bytes(changelog);
    if (!gz) fail(gz.error().message, doc / "changelog.Debian.gz");
    write_file(doc / "changelog.Debian.gz", *gz, fs::perms(0644));
    write_file(t.data / "usr/share/lintian/overrides" / pkg, lintian_overrides(pkg, r),
               fs::perms(0644));
    write_file(
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
        fs::perms(0644));
    t.bytes += 600;
    const std::string unit = sf::deb::role_unit(r);
    if (!unit.empty()) {
      const fs::path from = tree / "data/slurm_assets/defaults" / (unit + ".service");
      if (fs::is_regular_file(from)) {
        write_file(t.data / "usr/lib/systemd/system" / (unit + ".service"),
                   replace_root(read_text(from), build_root, root), fs::perms(0644));
      }
    }
    if (r == Role::kClient) {
      const std::string conf = "/etc/profile.d/" + pkg + ".sh";
      write_file(t.data / conf.substr(1), sf::deb::profile_script(root), fs::perms(0644));
      t.conffiles.push_back(conf);
    }
  }

  fs::path write_deb(const fs::path& work, PackageTree& t, Role r, const std::string& pkg,
                     const std::string& common, const std::string& version, const std::string& root,
                     const sf::ArtifactDescription& a, const sf::PackageInput& input) const {
    const fs::path dir = work / sf::deb::role_name(r);
    sf::ArchiveWriteOptions o;
    o.compression = settings_.compression == "xz"     ? sf::ArchiveCompression::kXz
                    : settings_.compression == "gzip" ? sf::ArchiveCompression::kGzip
                                                      : sf::ArchiveCompression::kZstd;
    o.level = settings_.compression == "zstd" ? 3 : 6;
    o.fixed_mtime = package_mtime(input.mtime);
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
    if (auto w = sf::write_archive(t.data, data_tar, o); !w) fail(w.error().message, data_tar);

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
    f.summary = "Slurm " + a.slurm_version + flavour + ": " + sf::deb::role_summary(r);
    f.description = "The Slurm workload manager " + a.slurm_version + ", built by slurm-factory " +
                    a.builder_version + "\nfor " + a.os_name + ". Relocatable: installed in " +
                    root + "/view,\nmodulefiles in " + root + "/modules.";
    write_file(control / "control", sf::deb::control_text(f), fs::perms(0644));
    write_file(control / "md5sums", sf::deb::md5sums_text(md5), fs::perms(0644));
    if (!t.conffiles.empty()) {
      std::string c;
      for (const auto& x : t.conffiles) c += x + "\n";
      write_file(control / "conffiles", c, fs::perms(0644));
    }
    sf::deb::ScriptContext sc{r, root, sf::deb::role_unit(r), "/var/lib/" + pkg};
    const std::pair<const char*, std::string> scripts[] = {
        {"postinst", sf::deb::postinst_script(sc)},
        {"prerm", sf::deb::prerm_script(sc)},
        {"postrm", sf::deb::postrm_script(sc)}};
    for (const auto& [name, text] : scripts) {
      if (!text.empty()) write_file(control / name, text, fs::perms(0755));
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
                          package_mtime(input.mtime));
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
