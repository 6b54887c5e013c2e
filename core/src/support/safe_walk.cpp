#include "support/safe_walk.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace fs = std::filesystem;

namespace sf {

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

namespace {

constexpr int kMaxDepth = 256;
constexpr std::size_t kMaxLink = 4096;

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "/" + b; }

// The components of a relative path; "" and "." dropped. Failure on ".." or an absolute path.
Expected<std::vector<std::string>> components(const std::string& relative) {
  if (!relative.empty() && relative.front() == '/') {
    return Failure::error("'" + printable(relative) + "' is not a relative path");
  }
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= relative.size()) {
    const std::size_t slash = relative.find('/', start);
    const std::size_t end = slash == std::string::npos ? relative.size() : slash;
    std::string c = relative.substr(start, end - start);
    if (c == "..") return Failure::error("'" + printable(relative) + "' has a '..' component");
    if (!c.empty() && c != ".") out.push_back(std::move(c));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

std::string read_link_at(int dirfd, const std::string& name) {
  std::string buf(kMaxLink, '\0');
  const ssize_t n = ::readlinkat(dirfd, name.c_str(), buf.data(), buf.size());
  if (n < 0) return {};
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

// Why `name` in `dirfd` could not be opened without following links (`shown`: its path for the
// message, relative to `base`).
Failure open_failure(int err, int dirfd, const std::string& name, const std::string& shown,
                     const fs::path& base, const char* wanted) {
  if (err == ENOENT) {
    return Failure::not_found("'" + printable(shown) + "' does not exist in " + base.string());
  }
  struct stat st {};
  if ((err == ELOOP || err == ENOTDIR || err == ENXIO) &&
      ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) {
      return Failure::error("'" + printable(shown) + "' in " + base.string() +
                            " is a symlink (to '" + printable(read_link_at(dirfd, name)) +
                            "'); the host never follows a link out of a build's work tree");
    }
    return Failure::error("'" + printable(shown) + "' in " + base.string() + " is not " + wanted);
  }
  return Failure::error("cannot open '" + printable(shown) + "' in " + base.string() + ": " +
                        errno_text(err));
}

Expected<UniqueFd> open_base(const fs::path& base) {
  UniqueFd fd(::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    const std::string what = "cannot open " + base.string() + ": " + errno_text(err);
    return err == ENOENT ? Failure::not_found(what) : Failure::error(what);
  }
  return fd;
}

Expected<UniqueFd> open_dirs(const fs::path& base, const std::vector<std::string>& parts,
                             std::size_t count) {
  auto cur = open_base(base);
  if (!cur) return cur;
  UniqueFd fd = std::move(*cur);
  std::string done;
  for (std::size_t i = 0; i < count; ++i) {
    done = join(done, parts[i]);
    UniqueFd next(
        ::openat(fd.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0) return open_failure(errno, fd.get(), parts[i], done, base, "a directory");
    fd = std::move(next);
  }
  return fd;
}

// The directory that holds base/relative (opened beneath base, no link followed) and the last
// component of `relative`: what every operation on one entry starts from.
struct ParentDir {
  UniqueFd fd;
  std::string name;
  int get() const { return fd.get(); }
};

Expected<ParentDir> open_parent_beneath(const fs::path& base, const std::string& relative) {
  auto parts = components(relative);
  if (!parts) return parts.error();
  if (parts->empty()) return Failure::error("no file name in '" + printable(relative) + "'");
  auto dir = open_dirs(base, *parts, parts->size() - 1);
  if (!dir) return dir.error();
  return ParentDir{std::move(*dir), parts->back()};
}

struct OpenedFile {
  UniqueFd fd;
  struct stat st {};
};

// The regular file base/relative, opened without following links and checked with fstat.
Expected<OpenedFile> open_regular_beneath(const fs::path& base, const std::string& relative) {
  auto dir = open_parent_beneath(base, relative);
  if (!dir) return dir.error();
  OpenedFile f;
  f.fd = UniqueFd(::openat(dir->get(), dir->name.c_str(),
                           O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (f.fd.get() < 0) {
    return open_failure(errno, dir->get(), dir->name, relative, base, "a regular file");
  }
  if (::fstat(f.fd.get(), &f.st) != 0) {
    return Failure::error("cannot stat '" + printable(relative) + "': " + errno_text(errno));
  }
  if (!S_ISREG(f.st.st_mode)) {
    return Failure::error("'" + printable(relative) + "' in " + base.string() +
                          " is not a regular file");
  }
  return f;
}

Expected<void> walk_dir(int dirfd, const std::string& prefix, int depth,
                        std::vector<TreeEntry>& out) {
  if (depth > kMaxDepth) {
    return Failure::error("'" + printable(prefix) + "' is nested deeper than " +
                          std::to_string(kMaxDepth) + " levels");
  }
  std::vector<std::string> names;
  {
    const int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return Failure::error("cannot list '" + prefix + "': " + errno_text(errno));
    DIR* d = ::fdopendir(dup);
    if (d == nullptr) {
      const int err = errno;
      ::close(dup);
      return Failure::error("cannot list '" + printable(prefix) + "': " + errno_text(err));
    }
    ::rewinddir(d);
    errno = 0;
    while (const dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
      errno = 0;
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0)
      return Failure::error("cannot list '" + printable(prefix) + "': " + errno_text(err));
  }
  for (const auto& name : names) {
    TreeEntry e;
    e.path = join(prefix, name);
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Failure::error("cannot stat '" + printable(e.path) + "': " + errno_text(errno));
    }
    e.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
    if (S_ISREG(st.st_mode)) {
      e.kind = TreeEntryKind::kFile;
      e.size = static_cast<std::uint64_t>(st.st_size);
    } else if (S_ISDIR(st.st_mode)) {
      e.kind = TreeEntryKind::kDirectory;
    } else if (S_ISLNK(st.st_mode)) {
      e.kind = TreeEntryKind::kSymlink;
      e.link_target = read_link_at(dirfd, name);
    }
    const bool dir = e.kind == TreeEntryKind::kDirectory;
    out.push_back(std::move(e));
    if (!dir) continue;
    UniqueFd child(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (child.get() < 0) {
      return Failure::error("cannot open '" + printable(out.back().path) +
                            "': " + errno_text(errno));
    }
    const std::string path = out.back().path;
    if (auto r = walk_dir(child.get(), path, depth + 1, out); !r) return r;
  }
  return {};
}

Expected<std::vector<TreeEntry>> walk_fd(int fd) {
  std::vector<TreeEntry> out;
  if (auto r = walk_dir(fd, "", 0, out); !r) return r.error();
  std::sort(out.begin(), out.end(),
            [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
  return out;
}

}  // namespace

Expected<UniqueFd> open_dir_beneath(const fs::path& base, const std::string& relative) {
  auto parts = components(relative);
  if (!parts) return parts.error();
  return open_dirs(base, *parts, parts->size());
}

Expected<std::vector<TreeEntry>> walk_tree(const fs::path& root_in) {
  // A trailing slash would make the kernel follow a link at the last component.
  fs::path root = root_in.lexically_normal();
  while (!root.has_filename() && root.has_relative_path()) root = root.parent_path();
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    struct stat st {};
    if (::lstat(root.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      std::error_code ec;
      return Failure::error(root.string() + " is a symlink (to '" +
                            printable(fs::read_symlink(root, ec).string()) +
                            "'), not a directory; it is not followed");
    }
    const std::string what = "cannot read " + root.string() + ": " + errno_text(err);
    return err == ENOENT ? Failure::not_found(what) : Failure::error(what);
  }
  return walk_fd(fd.get());
}

Expected<std::vector<TreeEntry>> walk_tree_beneath(const fs::path& base,
                                                   const std::string& relative) {
  auto fd = open_dir_beneath(base, relative);
  if (!fd) return fd.error();
  return walk_fd(fd->get());
}

Expected<std::string> read_file_beneath(const fs::path& base, const std::string& relative,
                                        std::uint64_t max_bytes) {
  auto f = open_regular_beneath(base, relative);
  if (!f) return f.error();
  auto too_big = [&] {
    return Failure::error("'" + printable(relative) + "' in " + base.string() +
                          " is larger than the " + std::to_string(max_bytes) +
                          " bytes the host reads of it");
  };
  if (static_cast<std::uint64_t>(f->st.st_size) > max_bytes) return too_big();
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(f->fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return Failure::error("cannot read '" + printable(relative) + "': " + errno_text(errno));
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) return too_big();
  }
  return out;
}

Expected<CopiedFile> copy_file_beneath(const fs::path& base, const std::string& relative,
                                       const fs::path& dest, std::uint64_t max_bytes) {
  auto f = open_regular_beneath(base, relative);
  if (!f) return f.error();
  UniqueFd out(::open(dest.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (out.get() < 0)
    return Failure::error("cannot write " + dest.string() + ": " + errno_text(errno));
  CopiedFile copied;
  std::vector<char> buf(1 << 20);
  while (copied.bytes < max_bytes) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), max_bytes - copied.bytes));
    const ssize_t n = ::read(f->fd.get(), buf.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return Failure::error("cannot read '" + printable(relative) + "': " + errno_text(errno));
    if (n == 0) return copied;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(out.get(), buf.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Failure::error("cannot write " + dest.string() + ": " + errno_text(errno));
      done += w;
    }
    copied.bytes += static_cast<std::uint64_t>(n);
  }
  char probe = 0;
  copied.truncated = ::read(f->fd.get(), &probe, 1) > 0;
  return copied;
}

Expected<void> remove_file_beneath(const fs::path& base, const std::string& relative) {
  auto dir = open_parent_beneath(base, relative);
  if (!dir) return dir.error();
  struct stat st {};
  if (::fstatat(dir->get(), dir->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    const int err = errno;
    const std::string what = "cannot stat '" + printable(relative) + "': " + errno_text(err);
    return err == ENOENT ? Failure::not_found(what) : Failure::error(what);
  }
  if (S_ISDIR(st.st_mode)) return Failure::error("'" + printable(relative) + "' is a directory");
  if (::unlinkat(dir->get(), dir->name.c_str(), 0) != 0) {
    return Failure::error("cannot remove '" + printable(relative) + "': " + errno_text(errno));
  }
  return {};
}

Expected<void> replace_symlink_beneath(const fs::path& base, const std::string& relative,
                                       const std::string& target) {
  auto dir = open_parent_beneath(base, relative);
  if (!dir) return dir.error();
  struct stat st {};
  if (::fstatat(dir->get(), dir->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
      !S_ISLNK(st.st_mode)) {
    return Failure::error("'" + printable(relative) + "' is not a symlink");
  }
  static std::atomic<unsigned> n{0};
  const std::string tmp =
      ".sf-link-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".tmp";
  if (::symlinkat(target.c_str(), dir->get(), tmp.c_str()) != 0) {
    return Failure::error("cannot make a link beside '" + printable(relative) +
                          "': " + errno_text(errno));
  }
  if (::renameat(dir->get(), tmp.c_str(), dir->get(), dir->name.c_str()) != 0) {
    const int err = errno;
    ::unlinkat(dir->get(), tmp.c_str(), 0);
    return Failure::error("cannot replace '" + printable(relative) + "': " + errno_text(err));
  }
  return {};
}

std::string printable(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (out.size() >= 200) return out + "...";
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace sf
