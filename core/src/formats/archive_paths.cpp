#include "formats/archive_paths.hpp"

#include <sys/stat.h>
#include <unistd.h>

namespace sf {

std::vector<std::string> split_entry_path(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= path.size()) {
    auto s = path.find('/', pos);
    if (s == std::string::npos) s = path.size();
    out.push_back(path.substr(pos, s - pos));
    pos = s + 1;
  }
  return out;
}

std::string normalize_entry_path(std::string path) {
  while (path.rfind("./", 0) == 0) path.erase(0, 2);
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path == ".") path.clear();
  return path;
}

std::string clean_entry_path(const std::string& path) {
  std::string out;
  for (const auto& c : split_entry_path(path)) {
    if (c.empty() || c == ".") continue;
    if (!out.empty()) out += '/';
    out += c;
  }
  return out;
}

bool is_safe_entry_path(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string::npos) return false;
  for (const auto& c : split_entry_path(path)) {
    if (c == "..") return false;
  }
  return true;
}

bool symlink_stays_inside(const std::string& link_path, const std::string& target) {
  if (target.empty() || target.front() == '/') return false;
  std::vector<std::string> stack = split_entry_path(link_path);
  stack.pop_back();  // the link's own name
  for (const auto& c : split_entry_path(target)) {
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (stack.empty()) return false;
      stack.pop_back();
    } else {
      stack.push_back(c);
    }
  }
  return true;
}

std::uint32_t safe_extracted_mode(std::uint32_t perm) {
  return perm & 07777 & ~static_cast<std::uint32_t>(S_ISUID | S_ISGID | S_ISVTX | S_IWOTH);
}

namespace {

// Resolves `target` from the directory `stack` (components below `dest`, no symlink among them);
// see link_resolves_inside.
bool resolves_inside(const std::string& dest, std::vector<std::string>& stack,
                     const std::string& target, int& hops) {
  if (target.empty() || target.front() == '/') return false;
  for (const auto& c : split_entry_path(target)) {
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (stack.empty()) return false;
      stack.pop_back();
      continue;
    }
    stack.push_back(c);
    std::string path = dest;
    for (const auto& s : stack) (path += '/') += s;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) continue;
    if (++hops > 40) return false;
    std::string next(static_cast<size_t>(st.st_size > 0 ? st.st_size : 0) + 1, '\0');
    const ssize_t n = ::readlink(path.c_str(), next.data(), next.size());
    if (n < 0 || static_cast<size_t>(n) >= next.size()) return false;  // changed under us
    next.resize(static_cast<size_t>(n));
    stack.pop_back();
    if (!resolves_inside(dest, stack, next, hops)) return false;
  }
  return true;
}

}  // namespace

bool link_resolves_inside(const std::string& dest, const std::string& clean,
                          const std::string& target) {
  std::vector<std::string> stack = split_entry_path(clean);
  stack.pop_back();  // the link's own name
  int hops = 0;
  return resolves_inside(dest, stack, target, hops);
}

}  // namespace sf
