// Where libarchive reads a tar archive from: the file opened plainly (open_tar_reader), or read
// through our own callback from a ThreadedFileReader (ArchiveSource), so the compressed bytes are
// hashed, and a zstd stream decompressed, on the reader's thread while libarchive parses and the
// caller writes.
#pragma once

#include <archive.h>

#include <filesystem>
#include <memory>
#include <string>

namespace sf {

class ThreadedFileReader;

struct ArchiveReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchiveReadHandle = std::unique_ptr<archive, ArchiveReadDeleter>;

// A libarchive reader for tar (plain or GNU) with every compression filter, not yet opened.
ArchiveReadHandle new_tar_reader();

// A tar reader opened on `file`; null with the reason in `error`.
ArchiveReadHandle open_tar_reader(const std::filesystem::path& file, std::string& error);

// The archive file as libarchive's read callback (no skip callback: every byte passes through the
// reader). drain() hashes the rest of the file after the end-of-archive marker.
class ArchiveSource {
 public:
  ArchiveSource(const std::filesystem::path& file, bool hash);
  ~ArchiveSource();  // joins the reader's thread before the file is closed
  ArchiveSource(const ArchiveSource&) = delete;
  ArchiveSource& operator=(const ArchiveSource&) = delete;

  // Opens `a` on this source; the error (libarchive's or errno's) in `error`.
  bool open(archive* a, std::string& error);

  // The file's sha256 (hex) after reading what libarchive left unread; empty on a read error or
  // when the source does not hash.
  std::string drain();

 private:
  static la_ssize_t read(archive* a, void* client, const void** out);

  int fd_ = -1;
  int open_errno_ = 0;
  bool hash_;
  std::unique_ptr<ThreadedFileReader> reader_;
};

}  // namespace sf
