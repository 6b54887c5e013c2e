#include "support/file_io.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;

namespace sf {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

std::string temp_stem() { return std::string(kTempPrefix) + std::to_string(::getpid()) + "-"; }

// Writes all of `n` bytes at `p` to `fd`; false on error (errno set).
bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// A private temp file beside `dest` (".sf-tmp-<pid>-<name>.XXXXXX", mode 0600): its fd and path.
int open_temp_beside(const fs::path& dest, fs::path& tmp) {
  const fs::path dir = dest.has_parent_path() ? dest.parent_path() : fs::path(".");
  std::string templ = (dir / (temp_stem() + dest.filename().string() + ".XXXXXX")).string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  const int fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd >= 0) tmp = buf.data();
  return fd;
}

// Copies the regular file `from` into a temp file beside `to`, fsyncs it and renames it to `to`.
std::string copy_into_place(const fs::path& from, const fs::path& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) return "cannot read " + from.string() + ": " + errno_text(errno);
  struct stat st {};
  if (::fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(in);
    return "cannot copy " + from.string() + ": not a regular file";
  }
  fs::path tmp;
  const int out = open_temp_beside(to, tmp);
  if (out < 0) {
    const int err = errno;
    ::close(in);
    return "cannot create a temp file beside " + to.string() + ": " + errno_text(err);
  }
  std::string problem;
  std::vector<char> buf(1 << 20);
  for (;;) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      problem = "cannot read " + from.string() + ": " + errno_text(errno);
      break;
    }
    if (n == 0) break;
    if (!write_all(out, buf.data(), static_cast<std::size_t>(n))) {
      problem = "cannot write " + tmp.string() + ": " + errno_text(errno);
      break;
    }
  }
  ::close(in);
  if (problem.empty()) {
    ::fchmod(out, st.st_mode & 07777);
    if (::fsync(out) != 0) problem = "cannot fsync " + tmp.string() + ": " + errno_text(errno);
  }
  if (::close(out) != 0 && problem.empty())
    problem = "cannot write " + tmp.string() + ": " + errno_text(errno);
  if (problem.empty() && ::rename(tmp.c_str(), to.c_str()) != 0)
    problem = "cannot rename " + tmp.string() + " to " + to.string() + ": " + errno_text(errno);
  if (!problem.empty()) {
    ::unlink(tmp.c_str());
    return problem;
  }
  return fsync_path(to.has_parent_path() ? to.parent_path() : fs::path("."));
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string fsync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "cannot open " + path.string() + " to fsync it: " + errno_text(errno);
  std::string problem;
  if (::fsync(fd) != 0 && errno != EINVAL)  // EINVAL: a file system without fsync (pipes, ...)
    problem = "cannot fsync " + path.string() + ": " + errno_text(errno);
  ::close(fd);
  return problem;
}

std::string write_file_atomically(const fs::path& dest, const std::string& content) {
  fs::path tmp;
  const int fd = open_temp_beside(dest, tmp);
  if (fd < 0) return "cannot write a temp file beside " + dest.string() + ": " + errno_text(errno);
  std::string problem;
  if (!write_all(fd, content.data(), content.size()))
    problem = "cannot write " + tmp.string() + ": " + errno_text(errno);
  else if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0)
    problem = "cannot write " + tmp.string() + ": " + errno_text(errno);
  if (::close(fd) != 0 && problem.empty())
    problem = "cannot write " + tmp.string() + ": " + errno_text(errno);
  if (problem.empty()) {
    if (::rename(tmp.c_str(), dest.c_str()) == 0)
      return fsync_path(dest.has_parent_path() ? dest.parent_path() : fs::path("."));
    problem = "cannot rename " + tmp.string() + " to " + dest.string() + ": " + errno_text(errno);
  }
  ::unlink(tmp.c_str());
  return problem;
}

std::string rename_or_copy(const fs::path& from, const fs::path& to) {
  if (auto p = fsync_path(from); !p.empty()) return p;
  if (::rename(from.c_str(), to.c_str()) == 0)
    return fsync_path(to.has_parent_path() ? to.parent_path() : fs::path("."));
  const int err = errno;
  if (err != EXDEV)
    return "cannot rename " + from.string() + " to " + to.string() + ": " + errno_text(err);
  if (auto p = copy_into_place(from, to); !p.empty()) return p;
  ::unlink(from.c_str());
  return {};
}

Expected<fs::path> make_private_dir(const fs::path& parent) {
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return Failure::error("cannot create " + parent.string() + ": " + ec.message());
  std::string templ = (parent / (temp_stem() + "XXXXXX")).string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    return Failure::error("cannot make a private folder under " + parent.string() + ": " +
                          errno_text(errno));
  return fs::path(buf.data());
}

bool is_stale_temp(const std::string& name, std::int64_t mtime, std::int64_t now,
                   std::int64_t grace_seconds) {
  const std::string prefix = kTempPrefix;
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  std::size_t i = prefix.size();
  long long pid = 0;
  const std::size_t digits_start = i;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9' && i - digits_start < 10)
    pid = pid * 10 + (name[i++] - '0');
  if (i == digits_start || i >= name.size() || name[i] != '-') return now - mtime > grace_seconds;
  if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return true;
  return now - mtime > grace_seconds;
}

std::size_t remove_stale_temps(const fs::path& dir, bool recursive, std::int64_t grace_seconds) {
  std::size_t removed = 0;
  const std::int64_t now = now_seconds();
  std::error_code ec;
  std::vector<fs::path> doomed;
  auto consider = [&](const fs::directory_entry& e) {
    struct stat st {};
    if (::lstat(e.path().c_str(), &st) != 0) return false;
    if (!is_stale_temp(e.path().filename().string(), st.st_mtim.tv_sec, now, grace_seconds))
      return false;
    doomed.push_back(e.path());
    return true;
  };
  if (recursive) {
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (consider(*it) && it->is_directory(ec) && !it->is_symlink(ec))
        it.disable_recursion_pending();
    }
  } else {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) consider(*it);
  }
  for (const auto& p : doomed) {
    std::error_code e2;
    if (fs::remove_all(p, e2) > 0 && !e2) ++removed;
  }
  return removed;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string to_hex(const unsigned char* bytes, std::size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

}  // namespace sf
