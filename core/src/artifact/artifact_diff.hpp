// Compares two archives of the same build (an artifact and its rebuild, or two cache entries):
// the archive files' sha256, then entry by entry (libarchive: type, mode, link target, the sha256
// of each regular file), and for an ELF file that differs, which of its sections differ (libelf).
// What `slurm-factory rebuild` and the reproducibility tests report.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "slurm_factory/expected.hpp"

namespace sf {

struct FileDifference {
  std::string path;  // the entry's path in the archives
  // "content", "mode", "type", "link", "only in expected", "only in rebuilt"
  std::string kind;
  std::uint64_t expected_size = 0;
  std::uint64_t rebuilt_size = 0;
  // ELF files whose content differs: the sections whose bytes differ, in the expected file's
  // header order; a section only one file has is "+name" (rebuilt only) or "-name" (expected
  // only). Empty when the files are not both ELF.
  std::vector<std::string> sections;
};

struct ArchiveComparison {
  std::string expected_sha256;
  std::string rebuilt_sha256;
  std::size_t entries = 0;                  // entries of the expected archive
  std::vector<FileDifference> differences;  // by path

  bool same_bytes() const { return expected_sha256 == rebuilt_sha256; }
  // Same bytes, or (e.g. another compression level) the same entries with the same contents.
  bool same_contents() const { return differences.empty(); }
};

// The sections of two ELF files whose bytes differ (see FileDifference::sections). Failure when
// either is not a readable ELF file.
Expected<std::vector<std::string>> differing_elf_sections(const std::filesystem::path& expected,
                                                          const std::filesystem::path& rebuilt);

// Compares `expected` with `rebuilt`. ELF files that differ are extracted under `scratch` (a
// private folder the caller removes) to compare their sections. Failure names an archive that
// cannot be read or extracted.
Expected<ArchiveComparison> compare_archives(const std::filesystem::path& expected,
                                             const std::filesystem::path& rebuilt,
                                             const std::filesystem::path& scratch);

// One line per difference: "  lib/libcrypto.so.3  content  5963352 -> 5963352 bytes  sections:
// .rodata".
std::string format_differences(const ArchiveComparison& c);

}  // namespace sf
