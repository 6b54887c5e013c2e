#include "formats/build_context.hpp"

#include <archive.h>
#include <archive_entry.h>

#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

la_ssize_t on_write(archive*, void* user, const void* buffer, size_t length) {
  static_cast<std::string*>(user)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

}  // namespace

std::string make_build_context(const std::vector<ContextFile>& files) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_ustar(a);
  archive_write_set_bytes_in_last_block(a, 1);
  if (archive_write_open(a, &out, nullptr, on_write, nullptr) != ARCHIVE_OK) {
    std::string msg = archive_error_string(a) ? archive_error_string(a) : "unknown";
    archive_write_free(a);
    throw ContainerError("cannot make the image build context", {{"libarchive", msg}});
  }
  for (const auto& f : files) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, f.path.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(f.content.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, static_cast<mode_t>(f.mode));
    archive_entry_set_mtime(e, 0, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        archive_write_data(a, f.content.data(), f.content.size()) < 0) {
      std::string msg = archive_error_string(a) ? archive_error_string(a) : "unknown";
      archive_entry_free(e);
      archive_write_free(a);
      throw ContainerError("cannot make the image build context",
                           {{"file", f.path}, {"libarchive", msg}});
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

}  // namespace sf
