#include "formats/rootfs_layer.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <array>
#include <cstdio>
#include <memory>

#include "formats/archive_paths.hpp"
#include "slurm_factory/digest.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// The uncompressed layer: to the file, hashed on the way.
struct LayerSink {
  std::FILE* file = nullptr;
  Sha256 md;
  static la_ssize_t write(archive* a, void* client, const void* buffer, size_t length) {
    auto* self = static_cast<LayerSink*>(client);
    if (std::fwrite(buffer, 1, length, self->file) != length) {
      archive_set_error(a, EIO, "write error");
      return -1;
    }
    self->md.update(buffer, length);
    return static_cast<la_ssize_t>(length);
  }
};

bool under(const std::string& name, const std::string& folder) {
  return name.size() > folder.size() && name.compare(0, folder.size(), folder) == 0 &&
         name[folder.size()] == '/';
}

}  // namespace

std::string rootfs_layer_name(const std::string& engine_name) {
  std::string name = engine_name;
  while (!name.empty() && name.front() == '/') name.erase(0, 1);
  name = normalize_entry_path(name);
  while (!name.empty() && name.back() == '/') name.pop_back();
  if (name.empty() || name == ".") return "";
  for (const auto& c : split_entry_path(name)) {
    if (c == "..") return "..";
  }
  static const std::array<const char*, 6> kEngineFiles{
      ".dockerenv", "run/.containerenv", "etc/hostname", "etc/hosts", "etc/resolv.conf", ""};
  for (const char* f : kEngineFiles) {
    if (*f != '\0' && name == f) return "";
  }
  for (const char* mount : {"dev", "proc", "sys"}) {
    if (under(name, mount)) return "";
  }
  return name;
}

Expected<RootfsLayerStats> write_rootfs_layer(const fs::path& engine_tar,
                                              const fs::path& layer_tar) {
  auto fail = [&](const std::string& what) {
    return Failure::error("cannot make an image layer of " + engine_tar.string() + ": " + what);
  };
  std::unique_ptr<archive, ReadDeleter> in(archive_read_new());
  archive_read_support_format_tar(in.get());
  archive_read_support_filter_none(in.get());
  if (archive_read_open_filename(in.get(), engine_tar.c_str(), 1 << 20) != ARCHIVE_OK) {
    return fail(archive_error_string(in.get()));
  }
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(layer_tar.c_str(), "wb"));
  if (!file) return fail("cannot create " + layer_tar.string());
  LayerSink sink;
  sink.file = file.get();
  std::unique_ptr<archive, WriteDeleter> out(archive_write_new());
  archive_write_set_format_pax_restricted(out.get());
  archive_write_set_bytes_per_block(out.get(), 1 << 20);
  archive_write_set_bytes_in_last_block(out.get(), 1);
  if (archive_write_open(out.get(), &sink, nullptr, &LayerSink::write, nullptr) != ARCHIVE_OK) {
    return fail(archive_error_string(out.get()));
  }
  RootfsLayerStats stats;
  std::vector<char> buf(std::size_t{1} << 20);
  archive_entry* entry = nullptr;
  for (;;) {
    const int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return fail(archive_error_string(in.get()));
    const char* raw = archive_entry_pathname(entry);
    const std::string name = rootfs_layer_name(raw ? raw : "");
    if (name == "..") return fail(std::string("the entry '") + raw + "' climbs out with '..'");
    const auto type = archive_entry_filetype(entry);
    const bool kept_type = type == AE_IFREG || type == AE_IFDIR || type == AE_IFLNK ||
                           archive_entry_hardlink(entry) != nullptr;
    if (name.empty() || !kept_type) {
      ++stats.dropped;
      continue;
    }
    archive_entry_copy_pathname(entry, name.c_str());
    if (const char* link = archive_entry_hardlink(entry)) {
      const std::string target = rootfs_layer_name(link);
      if (target.empty() || target == "..") {
        return fail(std::string("the hard link '") + raw + "' points at '" + link + "'");
      }
      archive_entry_copy_hardlink(entry, target.c_str());
    }
    if (archive_write_header(out.get(), entry) != ARCHIVE_OK) {
      return fail(name + ": " + archive_error_string(out.get()));
    }
    for (;;) {
      const auto n = archive_read_data(in.get(), buf.data(), buf.size());
      if (n < 0) return fail(name + ": " + archive_error_string(in.get()));
      if (n == 0) break;
      if (archive_write_data(out.get(), buf.data(), static_cast<size_t>(n)) != n) {
        return fail(name + ": " + archive_error_string(out.get()));
      }
    }
    ++stats.entries;
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK) {
    return fail(archive_error_string(out.get()));
  }
  out.reset();
  if (std::fflush(file.get()) != 0) return fail("cannot write " + layer_tar.string());
  stats.sha256 = sink.md.hex();
  return stats;
}

}  // namespace sf
