// The text formats of an APT repository: deb822 stanzas (a Packages file), the stanza of one .deb
// and the Release file that lists the indexes with their sizes and digests. Input read from a
// layer is hostile: parsing is capped and strict (a field name is [A-Za-z0-9-], no NUL, at most
// 100000 stanzas), and only the signed Release's digests make an index usable.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sf::deb {

struct Stanza {
  std::vector<std::pair<std::string, std::string>> fields;  // in order; values keep their
                                                            // continuation lines ("\n ...")
  std::string get(const std::string& name) const;  // "" when absent (field names: any case)
  void set(const std::string& name, const std::string& value);  // replaces or appends
};

// Stanzas of a deb822 text; nullopt when it is not one (a line that is neither a field nor a
// continuation, a bad field name, a NUL, too many stanzas).
std::optional<std::vector<Stanza>> parse_stanzas(const std::string& text);
std::string format_stanzas(const std::vector<Stanza>& stanzas);

// The Packages stanza of a .deb: its control file's fields, then Filename, Size, MD5sum, SHA256.
// nullopt when the control text is not one stanza with Package, Version and Architecture.
std::optional<Stanza> package_stanza(const std::string& control, const std::string& filename,
                                     std::uint64_t size, const std::string& md5,
                                     const std::string& sha256);

// `existing` with `added` in: a stanza of the same Package, Version and Architecture is replaced,
// every other one kept; sorted by Package, then Version text, then Architecture.
std::vector<Stanza> merge_packages(const std::vector<Stanza>& existing,
                                   const std::vector<Stanza>& added);

// "pool/main/<l>/<package>/<file>", <l> the first letter ("lib" + letter for lib*), as Debian.
std::string pool_key(const std::string& package, const std::string& file);

struct IndexEntry {
  std::uint64_t size = 0;
  std::string md5;
  std::string sha256;
};

struct ReleaseInfo {
  std::string codename;
  std::vector<std::string> architectures;
  std::map<std::string, IndexEntry> files;  // path under dists/<codename>/ -> size and digests
};

// A Release file's codename, architectures and SHA256 (and MD5Sum) lists; nullopt when it is not
// one (no Codename, malformed lines).
std::optional<ReleaseInfo> parse_release(const std::string& text);
// The Release text of `info`, dated `date` (seconds since the epoch), component "main".
std::string release_text(const ReleaseInfo& info, std::int64_t date);

}  // namespace sf::deb
