// Small file helpers the core shares: a text written atomically (temp file in the same folder,
// then rename, so a reader never sees half of it) and bytes as lowercase hex (digests).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace sf {

// Writes `content` to `dest` through `dest`.tmp and a rename. Returns "" on success, else what
// failed (the temp file is removed); the caller turns it into its own error with a remediation.
std::string write_file_atomically(const std::filesystem::path& dest, const std::string& content);

// "00ff..." for the `n` bytes at `bytes`.
std::string to_hex(const unsigned char* bytes, std::size_t n);

}  // namespace sf
