#include "slurm_factory/archive_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>
#include <thread>

#include "slurm_factory/digest.hpp"
#include "slurm_factory/log.hpp"
#include "support/file_io.hpp"
#include "support/safe_walk.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string errno_text() { return std::error_code(errno, std::generic_category()).message(); }

Failure fail(const fs::path& archive_path, const std::string& what) {
  return Failure::error("cannot write archive " + archive_path.string() + ": " + what);
}

// Where libarchive's compressed output goes: the temp file, hashed on the way when asked.
struct OutputSink {
  int fd = -1;
  std::unique_ptr<Sha256> md;
  bool failed = false;

  static la_ssize_t write(archive* a, void* client, const void* buffer, size_t length) {
    auto* self = static_cast<OutputSink*>(client);
    const char* p = static_cast<const char*>(buffer);
    size_t left = length;
    while (left > 0) {
      const ssize_t n = ::write(self->fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        archive_set_error(a, errno, "write error: %s", std::strerror(errno));
        self->failed = true;
        return -1;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    if (self->md) self->md->update(buffer, length);
    return static_cast<la_ssize_t>(length);
  }
  // Closes the file; false when a write or the close failed.
  bool close() {
    if (fd < 0) return !failed;
    // fsync: the archive's bytes are on disk before the rename that publishes it.
    const bool synced = failed || ::fsync(fd) == 0;
    const bool ok = ::close(fd) == 0 && synced && !failed;
    fd = -1;
    return ok;
  }
  ~OutputSink() { close(); }
};

// The temporary name an archive is written under, beside `target` (file_io.hpp's kTempPrefix: gc
// removes it when this process is gone).
fs::path temp_beside(const fs::path& target) {
  return target.parent_path() /
         (std::string(kTempPrefix) + std::to_string(::getpid()) + "-" + target.filename().string());
}

// Closes `sink` (fsync'd) and renames `tmp` to `target`; on any failure `tmp` is removed.
Expected<void> publish_temp(OutputSink& sink, const fs::path& tmp, const fs::path& target) {
  std::error_code ec;
  if (!sink.close()) {
    auto f = fail(target, "cannot write " + tmp.string() + ": " + errno_text());
    fs::remove(tmp, ec);
    return f;
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(tmp, ec);
    return fail(target, "cannot rename into place: " + why);
  }
  return {};
}

}  // namespace

std::uint32_t safe_packed_mode(std::uint32_t perm, bool is_directory) {
  perm &= 07777;
  if ((perm & static_cast<std::uint32_t>(S_ISUID | S_ISGID | S_ISVTX | S_IWOTH)) == 0) return perm;
  return is_directory || (perm & 0111) != 0 ? 0755 : 0644;
}

Expected<std::vector<ArchiveEntryInfo>> write_archive(const fs::path& root,
                                                      const fs::path& archive_path,
                                                      const ArchiveWriteOptions& options) {
  std::error_code ec;
  // Sorted relative paths, so the same tree always gives the same archive. The walk never follows
  // a symlink (`root` itself must not be one): a link is packed as a link, never what it points at.
  auto walked = walk_tree(root);
  if (!walked) return fail(archive_path, walked.error().message);
  std::vector<std::string> paths;
  paths.reserve(walked->size());
  for (auto& e : *walked) paths.push_back(std::move(e.path));
  std::sort(paths.begin(), paths.end());

  if (!archive_path.parent_path().empty()) fs::create_directories(archive_path.parent_path(), ec);
  // A recognisable temp name (file_io.hpp, kTempPrefix): gc removes it when this process is gone.
  const fs::path tmp = temp_beside(archive_path);

  std::unique_ptr<archive, ArchiveDeleter> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  const std::string level = std::to_string(options.level);
  switch (options.compression) {
    case ArchiveCompression::kZstd: {
      archive_write_add_filter_zstd(a.get());
      archive_write_set_filter_option(a.get(), "zstd", "compression-level", level.c_str());
      const unsigned threads = options.threads > 0
                                   ? static_cast<unsigned>(options.threads)
                                   : std::max(1U, std::thread::hardware_concurrency());
      if (archive_write_set_filter_option(a.get(), "zstd", "threads",
                                          std::to_string(threads).c_str()) != ARCHIVE_OK) {
        sf::log().debug("libarchive: zstd threads not supported, compressing on one thread");
      }
      break;
    }
    case ArchiveCompression::kGzip:
      archive_write_add_filter_gzip(a.get());
      archive_write_set_filter_option(a.get(), "gzip", "compression-level", level.c_str());
      archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr);  // no mtime in header
      break;
    case ArchiveCompression::kXz:
      archive_write_add_filter_xz(a.get());
      archive_write_set_filter_option(a.get(), "xz", "compression-level", level.c_str());
      break;
    case ArchiveCompression::kNone:
      break;
  }
  // Whole 1 MiB writes of the compressed stream (the default 10 KiB block meant one write() per
  // 10 KiB); no padding of the last block, so the bytes are the same whatever the block size.
  archive_write_set_bytes_per_block(a.get(), 1 << 20);
  archive_write_set_bytes_in_last_block(a.get(), 1);
  OutputSink sink;
  sink.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (sink.fd < 0) return fail(archive_path, "cannot create " + tmp.string() + ": " + errno_text());
  if (options.archive_sha256 != nullptr) {
    sink.md = std::make_unique<Sha256>();
  }
  auto cleanup = [&] {
    a.reset();
    sink.close();
    std::error_code e2;
    fs::remove(tmp, e2);
  };
  if (archive_write_open(a.get(), &sink, nullptr, &OutputSink::write, nullptr) != ARCHIVE_OK) {
    auto f = fail(archive_path, archive_error_string(a.get()));
    cleanup();
    return f;
  }

  std::vector<ArchiveEntryInfo> out;
  out.reserve(paths.size());
  std::vector<char> buf(1 << 20);
  std::string whole;  // a whole file, for options.on_file
  Sha256 md;
  for (const auto& rel : paths) {
    const fs::path full = root / rel;
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0) {
      auto f = fail(archive_path, "cannot stat " + full.string() + ": " + errno_text());
      cleanup();
      return f;
    }
    ArchiveEntryInfo info;
    info.path = rel;
    // Never a setuid, setgid, sticky or world-writable entry (a symlink's mode means nothing).
    info.mode = S_ISLNK(st.st_mode)
                    ? static_cast<std::uint32_t>(st.st_mode & 07777)
                    : safe_packed_mode(static_cast<std::uint32_t>(st.st_mode), S_ISDIR(st.st_mode));
    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), rel.c_str());
    archive_entry_set_perm(e.get(), static_cast<mode_t>(info.mode));
    if (options.fixed_mtime) {
      archive_entry_set_mtime(e.get(), *options.fixed_mtime, 0);
    } else {
      archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    }
    if (options.numeric_owner_zero) {
      archive_entry_set_uid(e.get(), 0);
      archive_entry_set_gid(e.get(), 0);
    } else {
      archive_entry_set_uid(e.get(), st.st_uid);
      archive_entry_set_gid(e.get(), st.st_gid);
    }
    Fd fd;
    if (S_ISDIR(st.st_mode)) {
      info.type = "dir";
      archive_entry_set_filetype(e.get(), AE_IFDIR);
    } else if (S_ISLNK(st.st_mode)) {
      info.type = "symlink";
      std::error_code lec;
      info.link_target = fs::read_symlink(full, lec).string();
      if (lec) {
        auto f = fail(archive_path, "cannot read link " + full.string() + ": " + lec.message());
        cleanup();
        return f;
      }
      archive_entry_set_filetype(e.get(), AE_IFLNK);
      archive_entry_set_symlink(e.get(), info.link_target.c_str());
    } else if (S_ISREG(st.st_mode)) {
      info.type = "file";
      info.size = static_cast<std::uint64_t>(st.st_size);
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_size(e.get(), st.st_size);
      fd.fd = ::open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (fd.fd < 0) {
        auto f = fail(archive_path, "cannot read " + full.string() + ": " + errno_text());
        cleanup();
        return f;
      }
    } else {
      auto f = fail(archive_path, full.string() +
                                      " is not a regular file, directory or symlink; remove it "
                                      "from the tree");
      cleanup();
      return f;
    }
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) {
      auto f = fail(archive_path, rel + ": " + archive_error_string(a.get()));
      cleanup();
      return f;
    }
    if (fd.fd >= 0 && options.on_file) {
      // Read whole for the observer (one read per file, one archive_write_data).
      whole.resize(info.size);
      std::uint64_t got = 0;
      while (got < info.size) {
        auto n = ::read(fd.fd, whole.data() + got, info.size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::uint64_t>(n);
      }
      if (got != info.size) {
        auto f = fail(archive_path, "short read of " + full.string() + " (changed while packing?)");
        cleanup();
        return f;
      }
      if (info.size > 0 && archive_write_data(a.get(), whole.data(), whole.size()) !=
                               static_cast<la_ssize_t>(whole.size())) {
        auto f = fail(archive_path, rel + ": " + archive_error_string(a.get()));
        cleanup();
        return f;
      }
      if (options.hash_files) info.sha256 = sha256_hex(whole);
      options.on_file(rel, std::string_view(whole.data(), whole.size()));
    } else if (fd.fd >= 0) {
      const bool hash = options.hash_files;
      if (hash) md.reset();
      std::uint64_t left = info.size;
      while (left > 0) {
        auto n = ::read(fd.fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          auto f =
              fail(archive_path, "short read of " + full.string() + " (changed while packing?)");
          cleanup();
          return f;
        }
        const auto got = static_cast<size_t>(n);
        if (hash) md.update(buf.data(), got);
        if (archive_write_data(a.get(), buf.data(), got) != static_cast<la_ssize_t>(got)) {
          auto f = fail(archive_path, rel + ": " + archive_error_string(a.get()));
          cleanup();
          return f;
        }
        left -= std::min<std::uint64_t>(left, got);
      }
      if (hash) info.sha256 = md.hex();
    }
    out.push_back(std::move(info));
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    auto f = fail(archive_path, archive_error_string(a.get()));
    cleanup();
    return f;
  }
  a.reset();
  if (auto published = publish_temp(sink, tmp, archive_path); !published) {
    return published.error();
  }
  if (options.archive_sha256 != nullptr) *options.archive_sha256 = sink.md->hex();
  return out;
}

}  // namespace sf

namespace sf {

Expected<std::string> gzip_bytes(std::string_view data, int level) {
  std::unique_ptr<archive, ArchiveDeleter> a(archive_write_new());
  archive_write_set_format_raw(a.get());
  archive_write_add_filter_gzip(a.get());
  archive_write_set_filter_option(a.get(), "gzip", "compression-level",
                                  std::to_string(level).c_str());
  archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr);  // no mtime, no name
  archive_write_set_bytes_in_last_block(a.get(), 1);
  std::string out(data.size() + data.size() / 8 + 1024, '\0');
  std::size_t used = 0;
  if (archive_write_open_memory(a.get(), out.data(), out.size(), &used) != ARCHIVE_OK) {
    return Failure::error(std::string("cannot gzip: ") + archive_error_string(a.get()));
  }
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                             archive_entry_free);
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
  if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK ||
      archive_write_data(a.get(), data.data(), data.size()) < 0 ||
      archive_write_close(a.get()) != ARCHIVE_OK) {
    return Failure::error(std::string("cannot gzip: ") + archive_error_string(a.get()));
  }
  out.resize(used);
  return out;
}

}  // namespace sf

namespace sf {

Expected<GzipFileResult> gzip_file(const fs::path& source, const fs::path& destination, int level) {
  Fd in;
  in.fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (in.fd < 0) return fail(destination, "cannot read " + source.string() + ": " + errno_text());
  struct stat st {};
  if (::fstat(in.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return fail(destination, source.string() + " is not a regular file");
  }
  std::error_code ec;
  if (!destination.parent_path().empty()) fs::create_directories(destination.parent_path(), ec);
  const fs::path tmp = temp_beside(destination);
  OutputSink sink;
  sink.md = std::make_unique<Sha256>();
  sink.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (sink.fd < 0) return fail(destination, "cannot create " + tmp.string() + ": " + errno_text());
  auto cleanup = [&] {
    sink.close();
    std::error_code e2;
    fs::remove(tmp, e2);
  };
  std::unique_ptr<archive, ArchiveDeleter> a(archive_write_new());
  archive_write_set_format_raw(a.get());
  archive_write_add_filter_gzip(a.get());
  archive_write_set_filter_option(a.get(), "gzip", "compression-level",
                                  std::to_string(level).c_str());
  archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr);
  archive_write_set_bytes_per_block(a.get(), 1 << 20);
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open(a.get(), &sink, nullptr, &OutputSink::write, nullptr) != ARCHIVE_OK) {
    auto f = fail(destination, archive_error_string(a.get()));
    cleanup();
    return f;
  }
  std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(st.st_size));
  if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) {
    auto f = fail(destination, archive_error_string(a.get()));
    cleanup();
    return f;
  }
  Sha256 source_md;
  std::vector<char> buf(std::size_t{1} << 20);
  for (;;) {
    const auto n = ::read(in.fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto f = fail(destination, "cannot read " + source.string() + ": " + errno_text());
      cleanup();
      return f;
    }
    if (n == 0) break;
    const auto got = static_cast<size_t>(n);
    source_md.update(buf.data(), got);
    if (archive_write_data(a.get(), buf.data(), got) != static_cast<la_ssize_t>(got)) {
      auto f = fail(destination, archive_error_string(a.get()));
      cleanup();
      return f;
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    auto f = fail(destination, archive_error_string(a.get()));
    cleanup();
    return f;
  }
  a.reset();
  if (auto published = publish_temp(sink, tmp, destination); !published) return published.error();
  GzipFileResult out;
  out.source_sha256 = source_md.hex();
  out.sha256 = sink.md->hex();
  out.size = fs::file_size(destination, ec);
  return out;
}

}  // namespace sf
