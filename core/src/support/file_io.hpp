// Small file helpers the core shares: a text written atomically (a private temp file in the same
// folder, fsynced, then a checked rename and an fsync of the folder, so a reader never sees half of
// it, even after a crash), a checked move that copies across file systems (EXDEV), private temp
// folders (mkdtemp, 0700), the recognisable temp names and their cleanup after a `kill -9`, a whole
// file read into a string, and bytes as lowercase hex (digests).
//
// Every temp file or folder the core makes is named ".sf-tmp-<pid>-...": a later run, or
// `cache gc`, removes one whose process is gone (or that is older than a grace period).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "slurm_factory/expected.hpp"

namespace sf {

// The prefix of every temp file and folder the core makes: ".sf-tmp-".
inline constexpr const char* kTempPrefix = ".sf-tmp-";

// Writes `content` to `dest` through a private temp file beside it (".sf-tmp-<pid>-<name>.XXXXXX"),
// fsyncs it, renames it into place and fsyncs the folder. Returns "" on success, else what failed
// (the temp file is removed); the caller turns it into its own error with a remediation.
std::string write_file_atomically(const std::filesystem::path& dest, const std::string& content);

// fsync of a file or a folder. "" on success, else what failed.
std::string fsync_path(const std::filesystem::path& path);

// Moves the regular file `from` to `to` (replacing it): its data is fsynced, then renamed and the
// folder of `to` fsynced. Across file systems (EXDEV) it is copied into a temp file beside `to`,
// fsynced, renamed into place and `from` removed. "" on success, else what failed (`to` is then
// untouched and no temp file is left).
std::string rename_or_copy(const std::filesystem::path& from, const std::filesystem::path& to);

// A new private folder (mode 0700, mkdtemp) named ".sf-tmp-<pid>-XXXXXX" under `parent` (made if
// missing). Never reused, never predictable.
Expected<std::filesystem::path> make_private_dir(const std::filesystem::path& parent);

// True when `name` is a temp name (".sf-tmp-<pid>-...") of a process that is gone, or older than
// `grace_seconds` (its modification time `mtime`, seconds since the epoch, against `now`).
bool is_stale_temp(const std::string& name, std::int64_t mtime, std::int64_t now,
                   std::int64_t grace_seconds);

// Removes the stale temp files and folders (is_stale_temp) directly under `dir`, or anywhere below
// it when `recursive` (symlinks are never followed; a temp folder is removed whole). Returns how
// many were removed.
std::size_t remove_stale_temps(const std::filesystem::path& dir, bool recursive,
                               std::int64_t grace_seconds = 24 * 3600);

// The bytes of the file `path`, or "" when it cannot be opened or read.
std::string read_file(const std::filesystem::path& path);

// "00ff..." for the `n` bytes at `bytes`.
std::string to_hex(const unsigned char* bytes, std::size_t n);

}  // namespace sf
