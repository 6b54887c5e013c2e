#include "formats/destination_guard.hpp"

#include <sys/stat.h>

#include <system_error>

namespace fs = std::filesystem;

namespace sf {

DestinationGuard::DestinationGuard(fs::path dest, bool root_fresh)
    : dest_(std::move(dest)), root_fresh_(root_fresh) {}

std::string DestinationGuard::check_parents(const std::string& clean) {
  const auto last = clean.rfind('/');
  if (last == std::string::npos || dirs_.count(clean.substr(0, last))) return {};
  bool parent_fresh = root_fresh_;
  bool at_root = true;
  size_t pos = 0;
  size_t slash;
  while ((slash = clean.find('/', pos)) != std::string::npos) {
    std::string q = clean.substr(0, slash);
    pos = slash + 1;
    if (auto it = dirs_.find(q); it != dirs_.end()) {
      parent_fresh = it->second;
      at_root = false;
      continue;
    }
    if (auto m = made_.find(q); m != made_.end())
      return "goes through '" + q + "', which this archive made a " +
             (m->second == 'l' ? "symbolic link" : "file");
    bool fresh = false;
    if (parent_fresh) {
      fresh = true;  // nothing but this archive's entries is in a directory it created
      if (at_root) created_.push_back(dest_ / q);
    } else {
      const Existing e = probe(q, fresh);
      if (e == Existing::Symlink) return "goes through '" + q + "', a symbolic link";
      if (e == Existing::Other) return "goes through '" + q + "', which is not a directory";
    }
    dirs_.emplace(std::move(q), fresh);
    parent_fresh = fresh;
    at_root = false;
  }
  return {};
}

Existing DestinationGuard::existing(const std::string& clean) {
  if (dirs_.count(clean)) return Existing::Dir;
  if (auto m = made_.find(clean); m != made_.end())
    return m->second == 'l' ? Existing::Symlink : Existing::Other;
  const auto last = clean.rfind('/');
  const bool at_root = last == std::string::npos;
  const bool parent_fresh = at_root ? root_fresh_ : dirs_.at(clean.substr(0, last));
  if (parent_fresh) {
    if (at_root) created_.push_back(dest_ / clean);
    return Existing::None;
  }
  bool fresh = false;
  return probe(clean, fresh);
}

void DestinationGuard::wrote_dir(const std::string& clean, bool fresh) {
  made_.erase(clean);
  dirs_.emplace(clean, fresh);
}

void DestinationGuard::wrote(const std::string& clean, char kind) { made_[clean] = kind; }

bool DestinationGuard::is_extracted_file(const std::string& clean) const {
  auto m = made_.find(clean);
  return m != made_.end() && m->second == 'f';
}

void DestinationGuard::rollback() const {
  std::error_code ec;
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) fs::remove_all(*it, ec);
}

Existing DestinationGuard::probe(const std::string& rel, bool& fresh) {
  const fs::path p = dest_ / rel;
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) {
    fresh = true;
    created_.push_back(p);
    return Existing::None;
  }
  if (S_ISLNK(st.st_mode)) return Existing::Symlink;
  if (S_ISDIR(st.st_mode)) return Existing::Dir;
  return Existing::Other;
}

}  // namespace sf
