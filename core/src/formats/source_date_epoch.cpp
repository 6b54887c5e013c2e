#include "formats/source_date_epoch.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <ctime>
#include <memory>

namespace sf {

namespace {

struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

std::string why(archive* a) {
  const char* e = archive_error_string(a);
  return e != nullptr ? e : "unknown error";
}

}  // namespace

Expected<std::int64_t> source_date_epoch(const std::filesystem::path& archive_path) {
  std::unique_ptr<archive, ReadDeleter> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  archive_read_support_format_zip(a.get());
  if (archive_read_open_filename(a.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return Failure::error(archive_path.string() +
                          ": cannot open the source archive: " + why(a.get()));
  }
  std::int64_t newest = 0;
  archive_entry* entry = nullptr;
  for (;;) {
    const int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return Failure::error(archive_path.string() +
                            ": cannot read the source archive: " + why(a.get()));
    }
    if (archive_entry_mtime_is_set(entry) != 0) {
      const std::int64_t t = archive_entry_mtime(entry);
      if (t > newest) newest = t;
    }
    archive_read_data_skip(a.get());
  }
  return newest;
}

std::string format_utc(std::int64_t epoch) {
  const std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace sf
