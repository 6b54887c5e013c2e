// The "tarball" packager: slurm-<version>-<toolchain>[-<gpu>]-<arch>-software.tar.zst (or .tar.gz /
// .tar.xz) holding view/, modules/ and data/ of the staged tree. Reproducible (sorted entries,
// fixed mtime, numeric owner 0), multithreaded zstd by default, written atomically, all by the
// core's archive writer.
//
// Settings (the packager's section of the config): compression: zstd|gzip|xz (default zstd),
// level: N (default 3 for zstd, 6 otherwise), threads: N (zstd workers, 0 = one per CPU).
#include <nlohmann/json.hpp>

#include "slurm_factory/archive_writer.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/packager.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace fs = std::filesystem;

namespace {

class TarballPackager : public sf::Packager {
 public:
  explicit TarballPackager(const nlohmann::json& settings) {
    const std::string compression = settings.value("compression", std::string("zstd"));
    if (compression == "zstd") {
      options_.compression = sf::ArchiveCompression::kZstd;
      extension_ = ".tar.zst";
      options_.level = 3;
    } else if (compression == "gzip" || compression == "gz") {
      options_.compression = sf::ArchiveCompression::kGzip;
      extension_ = ".tar.gz";
      options_.level = 6;
    } else if (compression == "xz") {
      options_.compression = sf::ArchiveCompression::kXz;
      extension_ = ".tar.xz";
      options_.level = 6;
    } else {
      throw sf::ConfigurationError("unknown tarball compression '" + compression + "'",
                                   {{"setting", "packagers.tarball.compression"}},
                                   "use zstd (default), gzip or xz");
    }
    options_.level = settings.value("level", options_.level);
    options_.threads = settings.value("threads", 0);
  }

  std::string name() const override { return "tarball"; }
  std::string extension() const override { return extension_; }

  sf::PackageOutput package(const sf::PackageInput& input) override {
    for (const char* required : {"view", "modules", "data"}) {
      if (!fs::is_directory(input.root / required)) {
        throw sf::PackagingError(std::string("the staged tree has no ") + required + "/",
                                 {{"folder", input.root.string()}},
                                 "assemble the view and render the assets before packaging");
      }
    }
    std::error_code ec;
    fs::create_directories(input.output_dir, ec);
    const fs::path out = input.output_dir / (input.basename + extension_);
    sf::ArchiveWriteOptions options = options_;
    options.fixed_mtime = input.mtime;
    options.numeric_owner_zero = true;
    options.hash_files = false;  // SHA256SUMS covers the whole tarball; no per-file list is kept
    options.on_file = input.on_file;                  // ABI 1.1: the core scans as we read
    options.archive_sha256 = input.main_file_sha256;  // and takes the tarball's sha256 from us
    auto written = sf::write_archive(input.root, out, options);
    if (!written) {
      throw sf::PackagingError("cannot write the tarball: " + written.error().message,
                               {{"file", out.string()}},
                               "check free space and permissions of the output folder");
    }
    return {{out}};
  }

 private:
  sf::ArchiveWriteOptions options_;
  std::string extension_;
};

void register_tarball(sf::Registry& registry) {
  registry.add_packager("tarball", [](const nlohmann::json& settings) {
    return std::make_unique<TarballPackager>(settings);
  });
}

}  // namespace

SLURM_FACTORY_PLUGIN("packager-tarball", "1.0.0",
                     "Reproducible, signed tar.zst (or .tar.gz / .tar.xz) artifacts",
                     register_tarball)
