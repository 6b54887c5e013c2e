// SOURCE_DATE_EPOCH of a package build (https://reproducible-builds.org/specs/source-date-epoch/):
// the newest modification time of any entry in the package's source archive, read with libarchive
// from the sha256-verified copy in the source cache. It is a pure function of the archive's bytes,
// so of the source sha256 the package hash already covers: the same inputs give the same value on
// any machine, offline, with nothing to maintain in the recipes (a release tarball's newest file is
// its release date; a GitHub tag archive's files all carry the tagged commit's date).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "slurm_factory/expected.hpp"

namespace sf {

// The newest mtime (seconds since the epoch, UTC) of the entries of `archive` (tar, any
// compression libarchive reads). Entries with no or a negative time are ignored; an archive where
// no entry has one gives 0. Failure names the archive when it cannot be read.
Expected<std::int64_t> source_date_epoch(const std::filesystem::path& archive);

// "2025-07-01T12:34:56Z" for `epoch`.
std::string format_utc(std::int64_t epoch);

}  // namespace sf
