// The "rpm" packager: the view's split packages (package_layout.hpp) as .rpm files, built by
// rpmbuild from a spec this plugin writes (rpm_spec.hpp) over the staged package trees, and
// signed with the site key by rpmsign when the build is signed. Needs rpmbuild and rpmsign on the
// host (Debian: the rpm package; EL: rpm-build and rpm-sign). docs/packaging.md.
//
// Settings (packagers.rpm): name_prefix (slurm-factory-), install_root (the artifact's), revision
// (1), maintainer (the Packager tag), compression (zstd | xz | gzip).
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "install_scripts.hpp"
#include "package_layout.hpp"
#include "package_settings.hpp"
#include "package_trees.hpp"
#include "rpm_repository.hpp"
#include "rpm_spec.hpp"
#include "slurm_factory/command.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/packager.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace fs = std::filesystem;

namespace {

using sf::pkg::Role;
using sf::rpm::RpmSettings;

[[noreturn]] void fail(const std::string& what, const fs::path& where, const std::string& fix) {
  throw sf::PackagingError(what, {{"packager", "rpm"}, {"file", where.string()}}, fix);
}

std::string tail_of(const std::string& text) {
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

// Every file and symlink of `tree` (a package's "/") hard-linked into `buildroot`, and its
// %files list: files and links, /etc files as %config(noreplace), and, for the common package,
// every folder under the install root (`base`, relative) as %dir.
std::string link_and_list(const fs::path& tree, const fs::path& buildroot, const fs::path& base,
                          bool own_dirs) {
  std::string list;
  std::error_code ec;
  if (!fs::exists(tree)) return list;
  for (auto it = fs::recursive_directory_iterator(tree); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::path rel = it->path().lexically_relative(tree);
    const auto status = it->symlink_status();
    const fs::path dest = buildroot / rel;
    const std::string path = "/" + rel.generic_string();
    if (path.find('"') != std::string::npos) {
      fail("a file name has a double quote, which a %files list cannot hold", it->path(),
           "rename or drop the file in its recipe and build again");
    }
    if (fs::is_directory(status)) {
      fs::create_directories(dest, ec);
      const std::string b = "/" + base.generic_string();
      if (own_dirs && (path == b || path.rfind(b + "/", 0) == 0)) {
        list += sf::rpm::files_line(path, false, true);
      }
      continue;
    }
    fs::create_directories(dest.parent_path(), ec);
    if (fs::is_symlink(status)) {
      fs::copy_symlink(it->path(), dest, ec);
    } else {
      fs::create_hard_link(it->path(), dest, ec);
      if (ec) {
        ec.clear();
        fs::copy_file(it->path(), dest, ec);
      }
    }
    if (ec) fail("cannot stage " + path + ": " + ec.message(), dest, "check free space");
    list += sf::rpm::files_line(path, rel.generic_string().rfind("etc/", 0) == 0);
  }
  return list;
}

class RpmPackager : public sf::Packager {
 public:
  explicit RpmPackager(const nlohmann::json& settings)
      : settings_(sf::pkg::parse_package_settings(
            settings, "rpm", {"zstd", "xz", "gzip"},
            "use zstd (default: rpm 4.14 and newer, EL 8+), xz or gzip")) {}

  std::string name() const override { return "rpm"; }
  std::string extension() const override { return ".rpm"; }

  sf::PackageOutput package(const sf::PackageInput& input) override {
    const sf::ArtifactDescription& a = input.artifact;
    if (a.slurm_version.empty() || a.arch.empty() || a.toolchain.empty()) {
      throw sf::PackagingError("the rpm packager needs the artifact's description (ABI 3.1)",
                               {{"packager", "rpm"}}, "run it from slurm-factory 3.1 or newer");
    }
    // RPM wants shared libraries executable (its own brp scripts make them so).
    sf::pkg::PackageTrees trees(input, settings_.install_root, "rpm",
                                sf::pkg::LibraryMode::kExecutable);
    const std::string& root = trees.install_root();
    const fs::path work = trees.work();
    const fs::path buildroot = work / "buildroot";
    const fs::path base = fs::path(root).relative_path();

    sf::rpm::SpecInput spec;
    spec.settings = settings_;
    spec.artifact = a;
    spec.root = root;
    spec.compression_macro = settings_.compression == "xz"     ? "w6.xzdio"
                             : settings_.compression == "gzip" ? "w6.gzdio"
                                                               : "w3.zstdio";
    const std::int64_t mtime = sf::pkg::package_mtime(input.mtime);
    spec.changelog_date = [mtime] {
      const std::time_t t = static_cast<std::time_t>(mtime);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char buf[32];
      std::strftime(buf, sizeof buf, "%a %b %d %Y", &tm);
      return std::string(buf);
    }();
    for (Role r : sf::pkg::all_roles()) {
      sf::pkg::PackageTree& t = trees.tree(r);
      if (t.tree_files == 0) continue;
      sf::rpm::SpecPackage p;
      p.role = r;
      p.name = sf::rpm::package_name(settings_, a.gpu, r);
      p.summary = "Slurm " + a.slurm_version + ": " + sf::pkg::role_summary(r);
      p.unit = sf::pkg::role_unit(r);
      add_generated_files(t.root, r, p, input.root, trees);
      p.files_list = (work / (sf::pkg::role_name(r) + ".files")).string();
      sf::pkg::write_package_file(p.files_list,
                                  link_and_list(t.root, buildroot, base, r == Role::kCommon),
                                  fs::perms(0644), "rpm");
      spec.packages.push_back(p);
    }
    if (spec.packages.empty() || spec.packages.front().role != Role::kCommon) {
      fail("the view has no files for the common package", input.root,
           "assemble the view before packaging");
    }
    const fs::path spec_file = work / "slurm.spec";
    sf::pkg::write_package_file(spec_file, sf::rpm::spec_text(spec), fs::perms(0644), "rpm");

    const fs::path rpms = work / "rpms";
    const auto built = sf::run_command(
        {"env", "SOURCE_DATE_EPOCH=" + std::to_string(mtime), "rpmbuild", "-bb", "--quiet",
         "--target", sf::rpm::rpm_arch(a.arch), "--buildroot", buildroot.string(), "--noclean",
         "--nocheck", "--nodeps", "--define", "_topdir " + (work / "top").string(), "--define",
         "_rpmdir " + rpms.string(), "--define",
         "_rpmfilename %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm", spec_file.string()},
        "", std::chrono::seconds(900));
    if (built.exit_code == 127) {
      fail("rpmbuild is not installed", spec_file,
           "install it (Debian: apt-get install rpm; EL: dnf install rpm-build)");
    }
    if (!built.ok()) {
      fail("rpmbuild failed (exit " + std::to_string(built.exit_code) + "): " + tail_of(built.err),
           spec_file, "read rpmbuild's message; check packagers.rpm (docs/packaging.md)");
    }
    std::vector<fs::path> files;
    for (const auto& p : spec.packages) {
      const fs::path f = rpms / (p.name + "-" + sf::rpm::rpm_version(a.slurm_version) + "-" +
                                 sf::rpm::rpm_release(settings_.revision, a.toolchain) + "." +
                                 sf::rpm::rpm_arch(a.arch) + ".rpm");
      if (!fs::is_regular_file(f)) {
        fail("rpmbuild wrote no " + f.filename().string(), f, "this is a bug in the rpm packager");
      }
      files.push_back(f);
    }
    if (!input.signing_key.empty()) sign(files, input);
    sf::PackageOutput out;
    for (const auto& f : files) {
      const fs::path dest = input.output_dir / f.filename();
      std::error_code ec;
      fs::rename(f, dest, ec);
      if (ec) fail("cannot move the package into place: " + ec.message(), dest, "check the folder");
      out.files.push_back(dest);
    }
    return out;
  }

 private:
  // The unit and the clients' profile script, as the deb packages have them.
  void add_generated_files(const fs::path& tree_root, Role r, const sf::rpm::SpecPackage& p,
                           const fs::path& staged, const sf::pkg::PackageTrees& trees) const {
    if (!p.unit.empty()) {
      const fs::path from = staged / "data/slurm_assets/defaults" / (p.unit + ".service");
      if (fs::is_regular_file(from)) {
        sf::pkg::write_package_file(tree_root / "usr/lib/systemd/system" / (p.unit + ".service"),
                                    sf::pkg::replace_root(sf::pkg::read_text_file(from),
                                                          trees.build_root(), trees.install_root()),
                                    fs::perms(0644), "rpm");
      }
    }
    if (r == Role::kClient) {
      sf::pkg::write_package_file(tree_root / "etc/profile.d" / (p.name + ".sh"),
                                  sf::pkg::profile_script(trees.install_root()), fs::perms(0644),
                                  "rpm");
    }
  }

  // rpmsign with the site key's keyring (its agent holds no passphrase for it: a key that needs
  // one cannot sign packages here, and the message says so).
  static void sign(const std::vector<fs::path>& files, const sf::PackageInput& input) {
    std::vector<std::string> argv{"rpmsign", "--addsign", "--define",
                                  "_gpg_name " + input.signing_key};
    // rpm names gpg2 on some systems (Debian's rpm: /usr/bin/gpg2, which gnupg no longer has).
    for (const char* gpg : {"/usr/bin/gpg", "/bin/gpg", "/usr/bin/gpg2"}) {
      if (fs::exists(gpg)) {
        argv.insert(argv.end(), {"--define", std::string("__gpg ") + gpg});
        break;
      }
    }
    if (!input.signing_home.empty()) {
      argv.insert(argv.end(), {"--define", "_gpg_path " + input.signing_home});
    }
    for (const auto& f : files) argv.push_back(f.string());
    const auto signed_ = sf::run_command(argv, "", std::chrono::seconds(300));
    if (signed_.exit_code == 127) {
      fail("rpmsign is not installed", files.front(),
           "install it (Debian: apt-get install rpm; EL: dnf install rpm-sign)");
    }
    if (!signed_.ok()) {
      fail("rpmsign could not sign the packages (exit " + std::to_string(signed_.exit_code) +
               "): " + tail_of(signed_.err + signed_.out),
           files.front(),
           "rpmsign signs with gpg from the site keyring: a key with a passphrase must be "
           "unlocked in its gpg-agent, or use an unprotected signing key for packages");
    }
  }

  RpmSettings settings_;
};

void register_rpm(sf::Registry& registry) {
  registry.add_packager("rpm", [](const nlohmann::json& settings) {
    return std::make_unique<RpmPackager>(settings);
  });
  registry.add_package_repository("rpm", sf::rpm::make_rpm_repository);
}

}  // namespace

SLURM_FACTORY_PLUGIN(
    "packager-rpm", "1.0.0",
    "Split .rpm packages (common, client, slurmctld, slurmd, slurmdbd, slurmrestd, "
    "dev) of the artifact, built by rpmbuild and signed by rpmsign, and their signed YUM/DNF "
    "repository",
    register_rpm)
