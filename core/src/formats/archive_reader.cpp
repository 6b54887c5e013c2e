#include "formats/archive_reader.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>
#include <unordered_map>

#include "formats/threaded_file_reader.hpp"
#include "slurm_factory/digest.hpp"
#include "support/file_io.hpp"
#include "support/human_size.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct DiskDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};

std::vector<std::string> split(const std::string& p) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= p.size()) {
    auto s = p.find('/', pos);
    if (s == std::string::npos) s = p.size();
    out.push_back(p.substr(pos, s - pos));
    pos = s + 1;
  }
  return out;
}

// "./a/b/" -> "a/b"; "." and "./" -> "".
std::string normalize(std::string p) {
  while (p.rfind("./", 0) == 0) p.erase(0, 2);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p == ".") p.clear();
  return p;
}

std::unique_ptr<archive, ReadDeleter> open_reader(const fs::path& file, std::string& error) {
  std::unique_ptr<archive, ReadDeleter> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 20) != ARCHIVE_OK) {
    error = archive_error_string(a.get()) ? archive_error_string(a.get()) : "cannot open";
    return nullptr;
  }
  return a;
}

// The archive file read through our own callback from a ThreadedFileReader: the compressed bytes
// are hashed, and a zstd stream decompressed, on the reader's thread while this one parses and
// writes (no skip callback: every byte passes through the reader). drain() hashes the rest of
// the file after the end-of-archive marker.
class ArchiveSource {
 public:
  ArchiveSource(const fs::path& file, bool hash) : hash_(hash) {
    fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    open_errno_ = errno;
    if (fd_ >= 0) ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  ~ArchiveSource() {
    reader_.reset();  // joins the reader's thread before the file is closed
    if (fd_ >= 0) ::close(fd_);
  }
  ArchiveSource(const ArchiveSource&) = delete;
  ArchiveSource& operator=(const ArchiveSource&) = delete;

  // Opens `a` on this source; the error (libarchive's or errno's) in `error`.
  bool open(archive* a, std::string& error) {
    if (fd_ < 0) {
      error = std::strerror(open_errno_);
      return false;
    }
    reader_ = std::make_unique<ThreadedFileReader>(fd_, hash_, true);
    if (archive_read_open(a, this, nullptr, &ArchiveSource::read, nullptr) != ARCHIVE_OK) {
      error = archive_error_string(a) ? archive_error_string(a) : "cannot open";
      if (!reader_->error().empty()) error += " (" + reader_->error() + ")";
      return false;
    }
    return true;
  }

  // The file's sha256 (hex) after reading what libarchive left unread; empty on a read error.
  std::string drain() { return reader_ && hash_ ? reader_->finish() : std::string(); }

 private:
  static la_ssize_t read(archive* a, void* client, const void** out) {
    auto* self = static_cast<ArchiveSource*>(client);
    const ssize_t n = self->reader_->next(out);
    if (n < 0) {
      archive_set_error(a, EIO, "%s", self->reader_->error().c_str());
      return -1;
    }
    return n;
  }

  int fd_ = -1;
  int open_errno_ = 0;
  bool hash_;
  std::unique_ptr<ThreadedFileReader> reader_;
};

std::string entry_type(archive_entry* e) {
  if (archive_entry_hardlink(e)) return "hardlink";
  switch (archive_entry_filetype(e)) {
    case AE_IFREG:
      return "file";
    case AE_IFDIR:
      return "dir";
    case AE_IFLNK:
      return "symlink";
    default:
      return "special";
  }
}

Failure refuse(const fs::path& archive_path, const std::string& entry, const std::string& why) {
  return Failure::error("refused archive " + archive_path.string() + ": entry '" + entry + "' " +
                        why + "; the archive is corrupt or malicious, nothing was extracted");
}

}  // namespace

bool is_safe_entry_path(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string::npos) return false;
  for (const auto& c : split(path)) {
    if (c == "..") return false;
  }
  return true;
}

bool symlink_stays_inside(const std::string& link_path, const std::string& target) {
  if (target.empty() || target.front() == '/') return false;
  std::vector<std::string> stack = split(link_path);
  stack.pop_back();  // the link's own name
  for (const auto& c : split(target)) {
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

Expected<std::vector<ArchiveEntryInfo>> read_archive_index(const fs::path& archive_path) {
  std::string err;
  auto a = open_reader(archive_path, err);
  if (!a) return Failure::error("cannot read archive " + archive_path.string() + ": " + err);
  std::vector<ArchiveEntryInfo> out;
  Sha256 md;
  archive_entry* e = nullptr;
  int rc;
  while ((rc = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK) {
    ArchiveEntryInfo info;
    info.path = normalize(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
    info.type = entry_type(e);
    info.mode = static_cast<std::uint32_t>(archive_entry_perm(e));
    if (info.type == "symlink" && archive_entry_symlink(e))
      info.link_target = archive_entry_symlink(e);
    if (info.type == "hardlink") info.link_target = normalize(archive_entry_hardlink(e));
    if (info.type == "file") {
      info.size = static_cast<std::uint64_t>(archive_entry_size(e));
      md.reset();
      const void* buf;
      size_t len;
      la_int64_t off;
      int r;
      while ((r = archive_read_data_block(a.get(), &buf, &len, &off)) == ARCHIVE_OK)
        md.update(buf, len);
      if (r != ARCHIVE_EOF)
        return Failure::error("cannot read archive " + archive_path.string() + " at '" + info.path +
                              "': " + archive_error_string(a.get()));
      info.sha256 = md.hex();
    }
    if (!info.path.empty()) out.push_back(std::move(info));
  }
  if (rc != ARCHIVE_EOF)
    return Failure::error("cannot read archive " + archive_path.string() + ": " +
                          (archive_error_string(a.get()) ? archive_error_string(a.get()) : "?"));
  return out;
}

namespace {

// Components of a safe relative entry path without "" and "." ("a//./b/" -> "a/b"), the form
// libarchive's own cleanup gives it, so that one path has one key.
std::string clean_path(const std::string& p) {
  std::string out;
  for (const auto& c : split(p)) {
    if (c.empty() || c == ".") continue;
    if (!out.empty()) out += '/';
    out += c;
  }
  return out;
}

// Resolves `target` as the kernel would from the directory `stack` (components below `dest`, no
// symlink among them), following every symlink it meets inside `dest` (read with lstat/readlink,
// dangling or not, made by this archive or there before), and never looking outside `dest`: false
// as soon as a ".." would climb above `dest`, a link target is absolute, or more than 40 links are
// followed (a loop). A component that does not exist is taken as it is (a directory to come).
bool resolves_inside(const std::string& dest, std::vector<std::string>& stack,
                     const std::string& target, int& hops) {
  if (target.empty() || target.front() == '/') return false;
  for (const auto& c : split(target)) {
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

// Whether the symlink `clean` (inside `dest`) pointing to `target` resolves inside `dest` through
// the links there now.
bool link_resolves_inside(const std::string& dest, const std::string& clean,
                          const std::string& target) {
  std::vector<std::string> stack = split(clean);
  stack.pop_back();  // the link's own name
  int hops = 0;
  return resolves_inside(dest, stack, target, hops);
}

// What is already at a path inside the destination.
enum class Existing { None, Dir, Symlink, Other };

// The checks that make the writes safe, before libarchive's own (ARCHIVE_EXTRACT_SECURE_SYMLINKS,
// which walks every component of every path again). What this extraction has seen is remembered,
// so each directory is looked at once:
//  - `dirs_`: directories known to be real directories inside the destination (made by an entry,
//    created as a parent, or found by lstat), with whether they are new ("fresh": created by this
//    extraction, so only this archive's entries can be in them and nothing needs an lstat);
//  - `made_`: every non-directory this archive wrote, with its kind ('f' file, 'l' symlink).
// An entry is written only when every parent is in `dirs_` (never through a symlink or file);
// directories are never replaced by non-directories; a symlink in the way of an entry is removed
// first (as SECURE_SYMLINKS does) so no write, chmod or utimes follows it; hard links must name a
// regular file this archive extracted. `created_` holds the top-most new path of each new branch,
// O(entries) in all, for the rollback.
class DestinationGuard {
 public:
  DestinationGuard(fs::path dest, bool root_fresh)
      : dest_(std::move(dest)), root_fresh_(root_fresh) {}

  // Empty when every parent of `clean` is (or will be created as) a real directory inside.
  std::string check_parents(const std::string& clean) {
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

  // What is at `clean` now (its parents checked), recording it for the rollback when new.
  Existing existing(const std::string& clean) {
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

  void wrote_dir(const std::string& clean, bool fresh) {
    made_.erase(clean);
    dirs_.emplace(clean, fresh);
  }
  void wrote(const std::string& clean, char kind) { made_[clean] = kind; }
  bool is_extracted_file(const std::string& clean) const {
    auto m = made_.find(clean);
    return m != made_.end() && m->second == 'f';
  }
  // Removes everything this extraction created; what was in the destination before stays.
  void rollback() const {
    std::error_code ec;
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) fs::remove_all(*it, ec);
  }

 private:
  Existing probe(const std::string& rel, bool& fresh) {
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

  fs::path dest_;
  bool root_fresh_;
  std::unordered_map<std::string, bool> dirs_;
  std::unordered_map<std::string, char> made_;
  std::vector<fs::path> created_;
};

}  // namespace

Expected<ExtractResult> extract_archive(const fs::path& archive_path, const fs::path& destination,
                                        const ExtractOptions& options) {
  std::error_code ec;
  fs::create_directories(destination, ec);
  if (ec)
    return Failure::error("cannot create " + destination.string() + ": " + ec.message() +
                          "; check the directory's permissions");
  const fs::path dest = fs::canonical(destination, ec);
  if (ec) return Failure::error("cannot resolve " + destination.string() + ": " + ec.message());
  const bool root_fresh = fs::directory_iterator(dest, ec) == fs::directory_iterator();
  if (ec) return Failure::error("cannot list " + dest.string() + ": " + ec.message());

  const bool hashing = !options.archive_sha256.empty();
  ArchiveSource source(archive_path, hashing);
  std::unique_ptr<archive, ReadDeleter> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (std::string err; !source.open(a.get(), err))
    return Failure::error("cannot read archive " + archive_path.string() + ": " + err);
  // With an expected hash, a read error is most often tampering: say so when the bytes differ.
  auto tamper_note = [&]() -> std::string {
    if (!hashing) return {};
    const std::string got = source.drain();
    if (got.empty() || got == options.archive_sha256) return {};
    return " (its sha256 " + got + " differs from the expected " + options.archive_sha256 +
           ": tampered or corrupt)";
  };

  std::unique_ptr<archive, DiskDeleter> disk(archive_write_disk_new());
  // DestinationGuard checks every entry first; libarchive's SECURE_SYMLINKS (no write through a
  // symlink, a link in the way replaced) and SECURE_NODOTDOT guard the writes again. Its
  // SECURE_NOABSOLUTEPATHS cannot be set: the paths handed to it are ours, the destination's
  // (canonical, absolute) joined with the entry's name that was refused above when absolute.
  // Never ARCHIVE_EXTRACT_OWNER: files belong to the running user.
  int flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT;
  if (options.restore_times) flags |= ARCHIVE_EXTRACT_TIME;
  if (options.restore_permissions) flags |= ARCHIVE_EXTRACT_PERM;
  if (options.no_overwrite) flags |= ARCHIVE_EXTRACT_NO_OVERWRITE;
  archive_write_disk_set_options(disk.get(), flags);

  DestinationGuard guard(dest, root_fresh);
  std::vector<std::pair<std::string, std::string>> symlinks;  // (clean path, target)
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  std::uint64_t entries = 0;
  std::uint64_t declared = 0;  // sum of the regular files' declared sizes

  auto rollback = [&] {
    disk.reset();
    guard.rollback();
  };

  ExtractResult result;
  Sha256 md;
  archive_entry* e = nullptr;
  int rc;
  while ((rc = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK) {
    const std::string raw = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    const std::string rel = normalize(raw);
    if (rel.empty() && archive_entry_filetype(e) == AE_IFDIR) continue;  // the root itself
    ArchiveEntryInfo info;
    info.path = rel;
    info.type = entry_type(e);
    info.mode = static_cast<std::uint32_t>(archive_entry_perm(e));
    if (!is_safe_entry_path(rel)) {
      rollback();
      return refuse(archive_path, raw, "has an absolute path or a '..' component");
    }
    const std::string clean = clean_path(rel);
    if (clean.empty()) {
      if (info.type == "dir") continue;
      rollback();
      return refuse(archive_path, raw, "names the destination itself");
    }
    if (info.type == "special") {
      rollback();
      return refuse(archive_path, raw, "is a device, fifo or socket");
    }
    if (++entries > options.max_entries) {
      rollback();
      return refuse(archive_path, raw,
                    "is past the extraction cap of " + std::to_string(options.max_entries) +
                        " entries (a bomb, or more entries than its manifest lists)");
    }
    if (info.type == "file" && archive_entry_size_is_set(e) != 0) {
      const auto size = static_cast<std::uint64_t>(std::max<la_int64_t>(0, archive_entry_size(e)));
      if (size > options.max_bytes - declared) {
        rollback();
        return refuse(archive_path, raw,
                      "declares " + human_size(size) + ", more than the " +
                          human_size(options.max_bytes - declared) +
                          " left of the extraction cap of " + human_size(options.max_bytes) + " (" +
                          std::to_string(options.max_bytes) +
                          " bytes; a bomb, or larger than its manifest says)");
      }
      declared += size;
    }
    // Never a dangerous mode on disk, never the archive's owner.
    info.mode = safe_extracted_mode(info.mode);
    if (info.type != "symlink") archive_entry_set_perm(e, static_cast<mode_t>(info.mode));
    archive_entry_set_uid(e, uid);
    archive_entry_set_gid(e, gid);
    archive_entry_set_uname(e, nullptr);
    archive_entry_set_gname(e, nullptr);
    if (info.type == "symlink") {
      info.link_target = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
      if (!symlink_stays_inside(rel, info.link_target) ||
          !link_resolves_inside(dest.string(), clean, info.link_target)) {
        rollback();
        return refuse(archive_path, raw,
                      "is a symlink to '" + info.link_target +
                          "', outside the destination (through the links already there)");
      }
      symlinks.emplace_back(clean, info.link_target);
    }
    if (info.type == "hardlink") {
      info.link_target = normalize(archive_entry_hardlink(e));
      const std::string target = clean_path(info.link_target);
      if (!is_safe_entry_path(info.link_target) || !guard.is_extracted_file(target)) {
        rollback();
        return refuse(archive_path, raw,
                      "is a hard link to '" + info.link_target +
                          "', not a regular file extracted earlier from this archive");
      }
      archive_entry_set_hardlink(e, (dest / target).c_str());
      archive_entry_set_size(e, 0);  // a pax hard link may carry data: never written over a file
    }
    if (auto why = guard.check_parents(clean); !why.empty()) {
      rollback();
      return refuse(archive_path, raw, why);
    }
    const Existing before = guard.existing(clean);
    if (before == Existing::Dir && info.type != "dir") {
      rollback();
      return refuse(archive_path, raw, "would replace the directory '" + clean + "'");
    }
    if (before == Existing::Symlink) {
      // Never write, chmod or utimes through a symlink: replace it (what SECURE_SYMLINKS does).
      if (options.no_overwrite || ::unlink((dest / clean).c_str()) != 0) {
        rollback();
        return refuse(archive_path, raw,
                      "is in the way of the symbolic link '" + clean +
                          "' in the destination, which cannot be replaced");
      }
    }
    archive_entry_set_pathname(e, (dest / clean).c_str());
    if (archive_write_header(disk.get(), e) != ARCHIVE_OK) {
      std::string why = archive_error_string(disk.get()) ? archive_error_string(disk.get()) : "";
      rollback();
      return refuse(archive_path, raw, "could not be written: " + why);
    }
    if (info.type == "dir") {
      guard.wrote_dir(clean, before == Existing::None);
    } else {
      guard.wrote(clean, info.type == "symlink" ? 'l' : 'f');
    }
    if (info.type == "file" && archive_entry_size(e) > 0) {
      info.size = static_cast<std::uint64_t>(archive_entry_size(e));
      md.reset();
      const void* buf;
      size_t len;
      la_int64_t off;
      int r;
      while ((r = archive_read_data_block(a.get(), &buf, &len, &off)) == ARCHIVE_OK) {
        md.update(buf, len);
        if (archive_write_data_block(disk.get(), buf, len, off) != ARCHIVE_OK) {
          std::string why =
              archive_error_string(disk.get()) ? archive_error_string(disk.get()) : "";
          rollback();
          return Failure::error("cannot extract '" + rel + "' from " + archive_path.string() +
                                " into " + dest.string() + ": " + why + "; check free space");
        }
      }
      if (r != ARCHIVE_EOF) {
        std::string why = archive_error_string(a.get()) ? archive_error_string(a.get()) : "";
        rollback();
        return Failure::error("archive " + archive_path.string() + " is truncated or corrupt at '" +
                              rel + "': " + why + tamper_note() + "; nothing was extracted");
      }
      info.sha256 = md.hex();
      result.bytes += info.size;
    } else if (info.type == "file") {
      info.sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    }
    if (archive_write_finish_entry(disk.get()) != ARCHIVE_OK) {
      std::string why = archive_error_string(disk.get()) ? archive_error_string(disk.get()) : "";
      rollback();
      return refuse(archive_path, raw, "could not be finished: " + why);
    }
    result.entries.push_back(std::move(info));
  }
  if (rc != ARCHIVE_EOF) {
    std::string why = archive_error_string(a.get()) ? archive_error_string(a.get()) : "";
    rollback();
    return Failure::error("archive " + archive_path.string() + " is truncated or corrupt: " + why +
                          tamper_note() + "; nothing was extracted");
  }
  if (archive_write_close(disk.get()) != ARCHIVE_OK) {
    std::string why = archive_error_string(disk.get()) ? archive_error_string(disk.get()) : "";
    rollback();
    return Failure::error("cannot finish extracting " + archive_path.string() + ": " + why);
  }
  // A link checked when it was written can escape through a link written after it (e -> d/../..
  // before d -> ..): resolve every one again now that all are there, dangling ones included.
  for (const auto& [clean, target] : symlinks) {
    if (!link_resolves_inside(dest.string(), clean, target)) {
      rollback();
      return refuse(archive_path, clean,
                    "is a symlink to '" + target +
                        "', resolving outside the destination through the links of the archive");
    }
  }
  if (hashing) {
    result.archive_sha256 = source.drain();
    if (result.archive_sha256 != options.archive_sha256) {
      rollback();
      return Failure::error(
          "archive " + archive_path.string() + " sha256 " +
          (result.archive_sha256.empty() ? std::string("(unreadable)") : result.archive_sha256) +
          " differs from the expected " + options.archive_sha256 +
          " (tampered or corrupt); nothing was extracted");
    }
  }
  if (options.accept) {
    if (auto why = options.accept(result); !why.empty()) {
      rollback();
      return Failure::error(why + "; nothing was extracted from " + archive_path.string());
    }
  }
  return result;
}

}  // namespace sf
