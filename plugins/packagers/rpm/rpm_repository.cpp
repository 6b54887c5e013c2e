#include "rpm_repository.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "repository_io.hpp"
#include "rpm_spec.hpp"
#include "slurm_factory/archive_files.hpp"
#include "slurm_factory/command.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace sf::rpm {

namespace {

constexpr std::uint64_t kMaxRepomd = 1U << 20U;
constexpr std::uint64_t kMaxSignature = 64U << 10U;
constexpr std::uint64_t kMaxMetadata = 512U << 20U;
constexpr std::uint64_t kMaxRpm = 4ULL << 30U;

using pkg::read_whole_file;

void run_tool(const std::vector<std::string>& argv, const std::string& package) {
  const auto r = run_command(argv, "", std::chrono::seconds(600));
  if (r.exit_code == 127) {
    throw PackagingError(argv.front() + " is not installed", {{"repository", "rpm"}},
                         "install " + package + " (Debian and EL: createrepo-c / createrepo_c)");
  }
  if (!r.ok()) {
    throw PackagingError(argv.front() + " failed (exit " + std::to_string(r.exit_code) +
                             "): " + r.err.substr(0, 2000),
                         {{"repository", "rpm"}}, "read the message above");
  }
}

// How many packages a primary.xml(.gz) lists (its <metadata packages="N">).
std::size_t package_count(const fs::path& primary) {
  auto files = read_archive_files(read_whole_file(primary), kMaxMetadata);
  if (!files || files->empty()) return 0;
  static const std::regex kCount("<metadata[^>]*packages=\"([0-9]{1,9})\"");
  std::smatch m;
  const std::string& xml = files->begin()->second;
  const std::string head = xml.substr(0, 4096);
  return std::regex_search(head, m, kCount) ? std::stoul(m[1].str()) : 0;
}

class RpmRepository final : public SignedRepository {
 public:
  std::string name() const override { return "rpm"; }

  RepositoryReport publish(const RepositoryInput& in, RepositoryStore& store,
                           const RepositorySigner& signer) override {
    RepositoryReport report;
    pkg::RepositoryIo io("rpm", store, report);
    const std::string base = in.artifact.toolchain + "/" + rpm_arch(in.artifact.arch) + "/";
    const fs::path old_dir = in.scratch / "old";
    const fs::path new_dir = in.scratch / "new";
    std::error_code ec;
    fs::create_directories(old_dir / "repodata", ec);
    fs::create_directories(new_dir / "Packages", ec);

    // 1. What the layer lists, trusted only when a trusted key signed its repomd.xml, and every
    // metadata file it names matches it.
    bool merge = false;
    if (io.fetch(base + "repodata/repomd.xml", old_dir / "repodata/repomd.xml", kMaxRepomd)) {
      const std::string repomd = read_whole_file(old_dir / "repodata/repomd.xml");
      if (!io.fetch(base + "repodata/repomd.xml.asc", in.scratch / "repomd.xml.asc.old",
                    kMaxSignature)) {
        io.untrusted(base + "repodata/repomd.xml", "has no repomd.xml.asc");
      }
      if (!signer.trusted(repomd, read_whole_file(in.scratch / "repomd.xml.asc.old"))) {
        io.untrusted(base + "repodata/repomd.xml", "is not signed by a trusted key");
      }
      auto entries = parse_repomd(repomd);
      if (!entries) io.untrusted(base + "repodata/repomd.xml", "is not a repomd.xml");
      for (const auto& e : *entries) {
        const fs::path dest = old_dir / e.href;
        if (e.size > kMaxMetadata || !io.fetch(base + e.href, dest, kMaxMetadata)) {
          io.untrusted(base + e.href, "is listed by repomd.xml but cannot be had");
        }
        auto sha = sha256_file_hex(dest);
        if (!sha || *sha != e.sha256 || fs::file_size(dest) != e.size) {
          io.untrusted(base + e.href, "does not match its signed repomd.xml");
        }
      }
      merge = true;
    }

    // 2. This build's packages into Packages/ (one the layer has with the same bytes stays;
    // another under the same name is refused: raise the revision).
    for (const auto& rpm : in.packages) {
      const std::string key = base + "Packages/" + rpm.filename().string();
      const auto ours = sha256_file_hex(rpm);
      if (!ours) throw PackagingError(ours.error().message, {{"package", rpm.string()}});
      if (io.has(key)) {
        const fs::path theirs = in.scratch / "existing.rpm";
        if (!io.fetch(key, theirs, kMaxRpm)) io.layer_failed(key, "vanished");
        auto sha = sha256_file_hex(theirs);
        fs::remove(theirs, ec);
        if (sha && *sha == *ours) {
          report.present.push_back(key);
        } else {
          throw PackagingError(
              "rpm repository: " + key + " is there with other bytes",
              {{"repository", "rpm"}, {"layer", store.location()}},
              "a rebuild of the same version needs a new release: set packagers.rpm.revision "
              "(e.g. \"2\") and build again");
        }
      } else {
        io.upload(key, rpm);
      }
      fs::create_hard_link(rpm, new_dir / "Packages" / rpm.filename(), ec);
      if (ec) {
        ec.clear();
        fs::copy_file(rpm, new_dir / "Packages" / rpm.filename(), ec);
      }
    }

    // 3. The metadata: this build's, merged with the layer's (ours first: the same package of
    // this build replaces the listed one).
    run_tool({"createrepo_c", "--quiet", "--no-database", new_dir.string()}, "createrepo-c");
    fs::path out = new_dir;
    if (merge) {
      out = in.scratch / "merged";
      run_tool({"mergerepo_c", "--no-database", "--all", "--omit-baseurl", "--repo",
                "file://" + new_dir.string(), "--repo", "file://" + old_dir.string(), "-o",
                out.string()},
               "createrepo-c");
    }
    const std::string repomd = read_whole_file(out / "repodata/repomd.xml");
    auto entries = parse_repomd(repomd);
    if (!entries) {
      throw PackagingError("createrepo_c wrote a repomd.xml this tool cannot read",
                           {{"repository", "rpm"}}, "report this with the createrepo_c version");
    }
    for (const auto& e : *entries) {
      if (e.href.find("primary") != std::string::npos) {
        report.listed = package_count(out / e.href);
      }
      io.upload(base + e.href, out / e.href);
    }
    {
      std::ofstream sig(in.scratch / "repomd.xml.asc", std::ios::binary);
      sig << signer.sign_detached(repomd);
    }
    io.upload(base + "repodata/repomd.xml", out / "repodata/repomd.xml");
    io.upload(base + "repodata/repomd.xml.asc", in.scratch / "repomd.xml.asc");
    report.index = base + "repodata/repomd.xml";
    return report;
  }
};

}  // namespace

std::optional<std::vector<RepomdEntry>> parse_repomd(const std::string& xml) {
  static const std::regex kData("<data\\b[^>]*>([\\s\\S]*?)</data>");
  static const std::regex kChecksum("<checksum\\s+type=\"sha256\"\\s*>([0-9a-f]{64})</checksum>");
  static const std::regex kLocation("<location\\s+href=\"(repodata/[A-Za-z0-9._-]{1,200})\"\\s*/>");
  static const std::regex kSize("<size>([0-9]{1,15})</size>");
  if (xml.size() > kMaxRepomd || xml.find("<repomd") == std::string::npos) return std::nullopt;
  std::vector<RepomdEntry> out;
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), kData); it != std::sregex_iterator();
       ++it) {
    const std::string block = (*it)[1].str();
    std::smatch c, l, s;
    if (!std::regex_search(block, c, kChecksum) || !std::regex_search(block, l, kLocation) ||
        !std::regex_search(block, s, kSize)) {
      return std::nullopt;
    }
    if (l[1].str().find("..") != std::string::npos) return std::nullopt;
    out.push_back({l[1].str(), c[1].str(), std::stoull(s[1].str())});
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::unique_ptr<SignedRepository> make_rpm_repository(const nlohmann::json& /*settings*/) {
  return std::make_unique<RpmRepository>();
}

}  // namespace sf::rpm
