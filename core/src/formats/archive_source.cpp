#include "formats/archive_source.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "formats/threaded_file_reader.hpp"

namespace fs = std::filesystem;

namespace sf {

ArchiveReadHandle new_tar_reader() {
  ArchiveReadHandle a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  return a;
}

ArchiveReadHandle open_tar_reader(const fs::path& file, std::string& error) {
  ArchiveReadHandle a = new_tar_reader();
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 20) != ARCHIVE_OK) {
    error = archive_error_string(a.get()) ? archive_error_string(a.get()) : "cannot open";
    return nullptr;
  }
  return a;
}

ArchiveSource::ArchiveSource(const fs::path& file, bool hash) : hash_(hash) {
  fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  open_errno_ = errno;
  if (fd_ >= 0) ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

ArchiveSource::~ArchiveSource() {
  reader_.reset();
  if (fd_ >= 0) ::close(fd_);
}

bool ArchiveSource::open(archive* a, std::string& error) {
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

std::string ArchiveSource::drain() { return reader_ && hash_ ? reader_->finish() : std::string(); }

la_ssize_t ArchiveSource::read(archive* a, void* client, const void** out) {
  auto* self = static_cast<ArchiveSource*>(client);
  const ssize_t n = self->reader_->next(out);
  if (n < 0) {
    archive_set_error(a, EIO, "%s", self->reader_->error().c_str());
    return -1;
  }
  return n;
}

}  // namespace sf
