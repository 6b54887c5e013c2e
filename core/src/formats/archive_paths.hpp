// Archive entry names as paths: which names are safe, their one canonical form, the modes an
// extracted entry may have, and where a symbolic link written by an extraction resolves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sf {

// Whether `path` (an archive entry name) is safe: relative, no "..", not empty.
bool is_safe_entry_path(const std::string& path);
// Whether a symlink at `link_path` pointing to `target` stays inside the extraction root, judged
// lexically (no other link considered; link_resolves_inside also resolves through the links on
// disk).
bool symlink_stays_inside(const std::string& link_path, const std::string& target);

// The permission bits an extracted (or packed) entry gets: `perm` without setuid, setgid, sticky
// and world-write.
std::uint32_t safe_extracted_mode(std::uint32_t perm);

// "a/b/c" -> {"a", "b", "c"}; empty components kept ("a//b" -> {"a", "", "b"}).
std::vector<std::string> split_entry_path(const std::string& path);
// "./a/b/" -> "a/b"; "." and "./" -> "".
std::string normalize_entry_path(std::string path);
// Components of a safe relative entry path without "" and "." ("a//./b/" -> "a/b"), the form
// libarchive's own cleanup gives it, so that one path has one key.
std::string clean_entry_path(const std::string& path);

// Whether the symlink `clean` (a clean entry path inside the directory `dest`) pointing to
// `target` resolves inside `dest` as the kernel would resolve it now: every symlink met inside
// `dest` is followed (read with lstat/readlink, dangling or not), nothing outside `dest` is looked
// at. False as soon as a ".." would climb above `dest`, a link target is absolute, or more than 40
// links are followed (a loop). A component that does not exist is taken as it is (a directory to
// come).
bool link_resolves_inside(const std::string& dest, const std::string& clean,
                          const std::string& target);

}  // namespace sf
