// Reads archives (tar with zstd, gzip, xz or none) with libarchive and extracts them safely: every
// entry is checked before anything is written (relative path, no "..", no absolute or escaping
// symlink, hardlinks only to regular files extracted earlier from the same archive, only files,
// directories and links; no entry written through a symlink or replacing a directory; a symlink in
// the way of an entry is replaced, never followed), each directory checked once, and libarchive's
// ARCHIVE_EXTRACT_SECURE_SYMLINKS and SECURE_NODOTDOT as a second guard. A symlink's target is
// resolved component by component through the links already in the destination (dangling or not),
// when it is written and again once every entry is there, and refused when it leaves the
// destination. Modes are never dangerous on disk: setuid, setgid, sticky and world-write bits are
// cleared and the owner is the running user (never the archive's uid/gid). What one extraction
// may write is capped (bytes declared by the regular files, number of entries): an entry past the
// cap stops the extraction before any of its bytes is written. When an entry is refused
// everything this extraction created is removed again (nothing is left behind; what was in the
// destination before stays).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "formats/archive_paths.hpp"
#include "slurm_factory/archive_writer.hpp"
#include "slurm_factory/expected.hpp"

namespace sf {

struct ExtractResult {
  std::vector<ArchiveEntryInfo> entries;
  std::uint64_t bytes = 0;
  std::string archive_sha256;  // of the archive file, when ExtractOptions::archive_sha256 was set
};

// The absolute caps of one extraction when the caller knows no better (a signed manifest lists
// every file and its size: callers that have one pass its totals instead).
inline constexpr std::uint64_t kDefaultMaxExtractBytes = 16ULL << 30;  // 16 GiB
inline constexpr std::uint64_t kDefaultMaxExtractEntries = 1000000;

struct ExtractOptions {
  bool restore_times = true;
  // Restores the permission bits, less setuid, setgid, sticky and world-write (always cleared).
  bool restore_permissions = true;
  // Refuse to overwrite existing files (else they are replaced).
  bool no_overwrite = false;
  // When set (hex): the sha256 the archive file must have. It is computed from the compressed
  // bytes as libarchive reads them (one pass over the file, not a second read); on a mismatch
  // everything this extraction created is removed and the Failure gives both hashes.
  std::string archive_sha256;
  // Called once everything is extracted, before the extraction is accepted; a non-empty answer
  // refuses it: everything this extraction created is removed and the answer is the message.
  std::function<std::string(const ExtractResult&)> accept;
  // Caps: the sum of the regular files' declared sizes and the number of entries (files,
  // directories, links). An entry that would go past either is refused before it is written, and
  // everything extracted so far is removed; the Failure names the archive and the cap.
  std::uint64_t max_bytes = kDefaultMaxExtractBytes;
  std::uint64_t max_entries = kDefaultMaxExtractEntries;
};

// Lists the entries of `archive` with the sha256 of each regular file, extracting nothing.
Expected<std::vector<ArchiveEntryInfo>> read_archive_index(const std::filesystem::path& archive);

// Extracts `archive` under `destination` (created if missing). The Failure names the archive, the
// entry and why it was refused.
Expected<ExtractResult> extract_archive(const std::filesystem::path& archive,
                                        const std::filesystem::path& destination,
                                        const ExtractOptions& options = {});

}  // namespace sf
