// Packs a directory tree into a reproducible archive with libarchive: entries sorted by path, a
// fixed mtime, numeric owner 0 (no user or group names), pax format, zstd with threads (or gzip,
// xz, none). No entry is packed with a setuid, setgid, sticky or world-writable mode: such a mode
// is reset to 0755 (directories, executables) or 0644 (safe_packed_mode). Each regular file's
// sha256 is computed while it is read (unless hash_files is off). The archive is written to a
// temporary name beside the target and renamed into place, so a reader never sees half of it. Used
// by the binary cache (entries) and the artifact packagers; part of the SDK, implemented in the
// core library (core/src/formats/archive_writer.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "slurm_factory/expected.hpp"

namespace sf {

enum class ArchiveCompression { kZstd, kGzip, kXz, kNone };

struct ArchiveWriteOptions {
  ArchiveCompression compression = ArchiveCompression::kZstd;
  int level = 3;    // compression level (zstd 1..19, gzip/xz 1..9)
  int threads = 0;  // zstd worker threads; 0 = one per CPU
  // Every entry's mtime; nullopt keeps the files' own (SOURCE_DATE_EPOCH style reproducibility).
  std::optional<std::int64_t> fixed_mtime = 0;
  bool numeric_owner_zero = true;  // uid/gid 0 and no names; false keeps the files' owners
  // Compute each regular file's sha256 (ArchiveEntryInfo::sha256). The cache needs them for its
  // manifest; the artifact packager does not (its checksum is of the whole tarball).
  bool hash_files = true;
  // Called with each regular file's path (relative) and whole content, after it is packed (the
  // file is read whole for it). Unset: files are streamed in 1 MiB pieces.
  std::function<void(const std::string& relative_path, std::string_view content)> on_file;
  // When set, receives the sha256 (hex) of the archive file, computed while it is written.
  std::string* archive_sha256 = nullptr;
};

// One entry of an archive, as packed or as read back.
struct ArchiveEntryInfo {
  std::string path;  // relative, '/' separated, no leading "./"
  std::string type;  // "file", "dir", "symlink", "hardlink"
  std::uint64_t size = 0;
  std::uint32_t mode = 0;   // permission bits (as packed / as extracted)
  std::string sha256;       // regular files only
  std::string link_target;  // symlink / hardlink target
};

// The mode an entry is packed with: `perm` itself when it has none of setuid, setgid, sticky and
// world-write; else 0755 for a directory or a file with any execute bit, 0644 for other files.
std::uint32_t safe_packed_mode(std::uint32_t perm, bool is_directory);

// Packs the contents of `root` (not `root` itself) into `archive`. Failure names the file that
// could not be read or written.
Expected<std::vector<ArchiveEntryInfo>> write_archive(const std::filesystem::path& root,
                                                      const std::filesystem::path& archive,
                                                      const ArchiveWriteOptions& options = {});

// The gzip stream of `data` (no file name, no timestamp: the same bytes for the same data), as
// `gzip -9n` writes it (ABI 3.1; a .deb's changelog.Debian.gz).
Expected<std::string> gzip_bytes(std::string_view data, int level = 9);

// ABI 3.2: `source` gzip-compressed into `destination` (no name, no timestamp: reproducible),
// streamed, written atomically; with the sha256 of both (an image layer's diff_id and digest).
struct GzipFileResult {
  std::string source_sha256;
  std::string sha256;  // of the compressed file
  std::uint64_t size = 0;
};
Expected<GzipFileResult> gzip_file(const std::filesystem::path& source,
                                   const std::filesystem::path& destination, int level = 6);

}  // namespace sf
