// The ar container of a .deb: "!<arch>\n", then each member with its 60-byte header (name, mtime,
// owner 0, mode 100644, size), padded to an even length. Written here rather than with libarchive
// because a plugin links the SDK only and the format is these few bytes (deb(5)); dpkg-deb reads
// what this writes (tests/integration/deb_packager_test.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sf::deb {

struct ArMember {
  std::string name;                 // at most 16 characters ("control.tar.zst")
  std::string content;              // either the bytes ...
  std::filesystem::path from_file;  // ... or a file copied in
};

// Writes `out` (replaced) with the members in order. Returns "" or what went wrong.
std::string write_ar(const std::filesystem::path& out, const std::vector<ArMember>& members,
                     std::int64_t mtime);

}  // namespace sf::deb
