// SHA256SUMS beside an artifact (the `sha256sum -c` format) and its detached signature
// SHA256SUMS.asc: the signature covers the sums, the sums cover the artifact and its provenance.
// The artifact also gets its own detached signature, <artifact>.asc (same signer), so that
// `gpg --verify slurm-...tar.zst.asc` works without the checksum file.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "slurm_factory/expected.hpp"

namespace sf {

class GpgSigner;

inline constexpr const char* kChecksumsFile = "SHA256SUMS";
inline constexpr const char* kChecksumsSignatureFile = "SHA256SUMS.asc";
// Taken (flock, exclusive) while SHA256SUMS and its signature are updated.
inline constexpr const char* kChecksumsLockFile = ".SHA256SUMS.lock";

// "<artifact>.asc": the detached, ASCII-armored signature of the artifact itself.
std::filesystem::path artifact_signature_path(const std::filesystem::path& artifact);

// Signs the bytes of `artifact` and writes <artifact>.asc atomically; returns its path. Throws
// PackagingError (unreadable artifact, unwritable folder) / SigningError.
std::filesystem::path write_artifact_signature(const std::filesystem::path& artifact,
                                               const GpgSigner& signer);

struct ChecksumLine {
  std::string sha256;  // 64 lowercase hex
  std::string file;    // a name in the same folder
};

// Streams the file through SHA-256. Failure names the file.
Expected<std::string> sha256_of_file(const std::filesystem::path& path);

// Parses "<sha256>  <file>" lines (also "<sha256> *<file>"). Throws VerificationError naming
// origin:line for a malformed line.
std::vector<ChecksumLine> parse_sha256sums(const std::string& text, const std::string& origin);
// Sorted by file name, "<sha256>  <file>\n" each.
std::string format_sha256sums(std::vector<ChecksumLine> lines);

// Writes <dir>/SHA256SUMS for `files` (which must be in `dir`), keeping the lines of other files
// already listed there, and <dir>/SHA256SUMS.asc when `signer` is given (removed when not: it
// would not verify). The read-merge-sign-write runs under an exclusive lock on
// <dir>/.SHA256SUMS.lock, so concurrent runs into one folder lose no line; each file is written
// to a unique temp name, fsynced and renamed. Throws PackagingError / SigningError.
// `known`: sha256 (hex) by file name for files already hashed while written (not read again).
void write_checksums(const std::filesystem::path& dir,
                     const std::vector<std::filesystem::path>& files, const GpgSigner* signer,
                     const std::map<std::string, std::string>& known = {});

}  // namespace sf
