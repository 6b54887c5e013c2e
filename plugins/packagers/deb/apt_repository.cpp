#include "apt_repository.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "apt_index.hpp"
#include "repository_io.hpp"
#include "slurm_factory/archive_files.hpp"
#include "slurm_factory/archive_writer.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace sf::deb {

namespace {

constexpr std::uint64_t kMaxRelease = 4U << 20U;     // a Release file
constexpr std::uint64_t kMaxSignature = 64U << 10U;  // Release.gpg
constexpr std::uint64_t kMaxPackages = 256U << 20U;  // one Packages file
constexpr std::uint64_t kMaxDeb = 4ULL << 30U;       // a package of ours

using pkg::read_whole_file;

void write_all(const fs::path& p, const std::string& text) {
  std::ofstream o(p, std::ios::binary | std::ios::trunc);
  o << text;
  o.close();
  if (!o) {
    throw PackagingError("cannot write " + p.string(), {{"repository", "apt"}},
                         "check free space of the cache folder");
  }
}

class AptRepository final : public SignedRepository {
 public:
  std::string name() const override { return "apt"; }

  RepositoryReport publish(const RepositoryInput& in, RepositoryStore& store,
                           const RepositorySigner& signer) override {
    RepositoryReport report;
    pkg::RepositoryIo io("apt", store, report);
    const std::string codename = in.artifact.toolchain;
    const std::string arch = in.artifact.arch;
    const std::string dist = "dists/" + codename + "/";
    const std::string packages_path = "main/binary-" + arch + "/Packages";

    // 1. What the layer lists now, trusted only when a trusted key signed its Release.
    ReleaseInfo release;
    release.codename = codename;
    std::vector<Stanza> existing;
    if (io.fetch(dist + "Release", in.scratch / "Release.old", kMaxRelease)) {
      const std::string text = read_whole_file(in.scratch / "Release.old");
      if (!io.fetch(dist + "Release.gpg", in.scratch / "Release.gpg.old", kMaxSignature)) {
        io.untrusted(dist + "Release", "has no Release.gpg");
      }
      if (!signer.trusted(text, read_whole_file(in.scratch / "Release.gpg.old"))) {
        io.untrusted(dist + "Release", "is not signed by a trusted key");
      }
      auto parsed = parse_release(text);
      if (!parsed || parsed->codename != codename) {
        io.untrusted(dist + "Release", "is not a Release file of " + codename);
      }
      release = *parsed;
      if (auto it = release.files.find(packages_path); it != release.files.end()) {
        const fs::path old = in.scratch / "Packages.old";
        if (it->second.size > kMaxPackages || !io.fetch(dist + packages_path, old, kMaxPackages)) {
          io.untrusted(dist + packages_path, "is listed by Release but cannot be had");
        }
        auto sha = sha256_file_hex(old);
        if (!sha || *sha != it->second.sha256 || fs::file_size(old) != it->second.size) {
          io.untrusted(dist + packages_path, "does not match its signed Release");
        }
        auto stanzas = parse_stanzas(read_whole_file(old));
        if (!stanzas) io.untrusted(dist + packages_path, "is not a Packages file");
        existing = std::move(*stanzas);
      }
    }
    std::map<std::string, std::string> listed_sha;  // Filename -> SHA256 the index lists
    for (const auto& s : existing) listed_sha[s.get("Filename")] = s.get("SHA256");

    // 2. This build's packages into the pool (those the index lists with the same bytes are
    // there already; another package under a listed name is refused: raise the revision).
    std::vector<Stanza> added;
    for (const auto& deb : in.packages) {
      std::error_code ec;
      const auto size = fs::file_size(deb, ec);
      if (ec || size > kMaxDeb) {
        throw PackagingError("cannot read " + deb.string(), {{"repository", "apt"}},
                             "build the packages again");
      }
      const std::string bytes = read_whole_file(deb);
      auto control = read_deb_control(deb);
      if (!control) {
        throw PackagingError(control.error().message, {{"package", deb.string()}},
                             "this is a bug in the deb packager");
      }
      const std::string sha = sha256_hex(bytes);
      auto stanza = package_stanza(*control, "", size, md5_hex(bytes), sha);
      if (!stanza) {
        throw PackagingError(
            "the package's control file is not one stanza with Package, "
            "Version and Architecture",
            {{"package", deb.string()}}, "this is a bug in the deb packager");
      }
      const std::string key = pool_key(stanza->get("Package"), deb.filename().string());
      stanza->set("Filename", key);
      if (auto it = listed_sha.find(key); it != listed_sha.end()) {
        if (it->second == sha) {
          report.present.push_back(key);
          added.push_back(*stanza);
          continue;
        }
        throw PackagingError(
            "apt repository: " + key + " is listed with other bytes (sha256 " + it->second + ")",
            {{"repository", "apt"}, {"layer", store.location()}},
            "a rebuild of the same version needs a new revision: set packagers.deb.revision "
            "(e.g. \"2\") and build again");
      }
      io.upload(key, deb);
      added.push_back(*stanza);
    }

    // 3. The index: this arch's Packages merged, the other arches' entries as signed before.
    const std::vector<Stanza> merged = merge_packages(existing, added);
    report.listed = merged.size();
    const std::string packages = format_stanzas(merged);
    auto gz = gzip_bytes(packages);
    if (!gz) throw PackagingError(gz.error().message, {{"repository", "apt"}});
    write_all(in.scratch / "Packages", packages);
    write_all(in.scratch / "Packages.gz", *gz);
    release.files[packages_path] = {packages.size(), md5_hex(packages), sha256_hex(packages)};
    release.files[packages_path + ".gz"] = {gz->size(), md5_hex(*gz), sha256_hex(*gz)};
    release.architectures.push_back(arch);
    const std::string text = release_text(release, in.now);
    write_all(in.scratch / "Release", text);
    write_all(in.scratch / "Release.gpg", signer.sign_detached(text));
    write_all(in.scratch / "InRelease", signer.sign_clear(text));
    io.upload(dist + packages_path, in.scratch / "Packages");
    io.upload(dist + packages_path + ".gz", in.scratch / "Packages.gz");
    io.upload(dist + "Release", in.scratch / "Release");
    io.upload(dist + "Release.gpg", in.scratch / "Release.gpg");
    io.upload(dist + "InRelease", in.scratch / "InRelease");
    report.index = dist + "InRelease";
    return report;
  }
};

}  // namespace

Expected<std::string> read_deb_control(const fs::path& deb) {
  std::ifstream in(deb, std::ios::binary);
  char magic[8] = {};
  if (!in.read(magic, 8) || std::string(magic, 8) != "!<arch>\n") {
    return Failure::error(deb.string() + " is not a .deb (no ar header)");
  }
  for (int member = 0; member < 8; ++member) {
    char header[60];
    if (!in.read(header, 60)) break;
    std::string name(header, 16);
    name = name.substr(0, name.find_last_not_of(' ') + 1);
    if (!name.empty() && name.back() == '/') name.pop_back();
    const std::string size_text(header + 48, 10);
    std::uint64_t size = 0;
    try {
      size = std::stoull(size_text);
    } catch (...) {
      return Failure::error(deb.string() + ": bad ar member size");
    }
    if (name.rfind("control.tar", 0) == 0) {
      if (size > (16U << 20U)) return Failure::error(deb.string() + ": control member too large");
      std::string bytes(size, '\0');
      if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
        return Failure::error(deb.string() + ": short control member");
      }
      auto files = read_archive_files(bytes, 64U << 20U);
      if (!files) return Failure::error(deb.string() + ": " + files.error().message);
      auto it = files->find("control");
      if (it == files->end()) return Failure::error(deb.string() + ": no control file");
      return it->second;
    }
    in.seekg(static_cast<std::streamoff>(size + (size % 2)), std::ios::cur);
  }
  return Failure::error(deb.string() + " has no control.tar member");
}

std::unique_ptr<SignedRepository> make_apt_repository(const nlohmann::json& /*settings*/) {
  return std::make_unique<AptRepository>();
}

}  // namespace sf::deb
