#include "formats/archive_reader.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <system_error>

#include "formats/archive_paths.hpp"
#include "formats/archive_source.hpp"
#include "formats/destination_guard.hpp"
#include "slurm_factory/archive_files.hpp"
#include "slurm_factory/digest.hpp"
#include "support/human_size.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

struct DiskDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
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

Expected<std::vector<ArchiveEntryInfo>> read_archive_index(const fs::path& archive_path) {
  std::string err;
  auto a = open_tar_reader(archive_path, err);
  if (!a) return Failure::error("cannot read archive " + archive_path.string() + ": " + err);
  std::vector<ArchiveEntryInfo> out;
  Sha256 md;
  archive_entry* e = nullptr;
  int rc;
  while ((rc = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK) {
    ArchiveEntryInfo info;
    info.path = normalize_entry_path(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
    info.type = entry_type(e);
    info.mode = static_cast<std::uint32_t>(archive_entry_perm(e));
    if (info.type == "symlink" && archive_entry_symlink(e))
      info.link_target = archive_entry_symlink(e);
    if (info.type == "hardlink") info.link_target = normalize_entry_path(archive_entry_hardlink(e));
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
  ArchiveReadHandle a = new_tar_reader();
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
    const std::string rel = normalize_entry_path(raw);
    if (rel.empty() && archive_entry_filetype(e) == AE_IFDIR) continue;  // the root itself
    ArchiveEntryInfo info;
    info.path = rel;
    info.type = entry_type(e);
    info.mode = static_cast<std::uint32_t>(archive_entry_perm(e));
    if (!is_safe_entry_path(rel)) {
      rollback();
      return refuse(archive_path, raw, "has an absolute path or a '..' component");
    }
    const std::string clean = clean_entry_path(rel);
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
      info.link_target = normalize_entry_path(archive_entry_hardlink(e));
      const std::string target = clean_entry_path(info.link_target);
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

namespace sf {

Expected<std::map<std::string, std::string>> read_archive_files(std::string_view bytes,
                                                                std::uint64_t max_bytes) {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_raw(a.get());  // a compressed single file: one entry, "data"
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return Failure::error(std::string("not an archive: ") + archive_error_string(a.get()));
  }
  std::map<std::string, std::string> files;
  std::uint64_t total = 0;
  archive_entry* e = nullptr;
  int r = ARCHIVE_OK;
  while ((r = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK) {
    const bool raw = archive_format(a.get()) == ARCHIVE_FORMAT_RAW;
    if (!raw && archive_entry_filetype(e) != AE_IFREG) continue;
    std::string path = archive_entry_pathname(e) != nullptr ? archive_entry_pathname(e) : "";
    while (path.rfind("./", 0) == 0) path.erase(0, 2);
    // Read in pieces against the cap (a raw stream declares no size).
    std::string content;
    char buf[65536];
    la_ssize_t got = 0;
    while ((got = archive_read_data(a.get(), buf, sizeof buf)) > 0) {
      total += static_cast<std::uint64_t>(got);
      if (total > max_bytes) {
        return Failure::error("the archive holds more than " + std::to_string(max_bytes) +
                              " bytes");
      }
      content.append(buf, static_cast<std::size_t>(got));
    }
    if (got < 0) {
      return Failure::error(std::string("cannot read ") + path + ": " +
                            (archive_error_string(a.get()) ? archive_error_string(a.get()) : ""));
    }
    files[raw ? std::string("data") : path] = std::move(content);
  }
  if (r != ARCHIVE_EOF) {
    return Failure::error(std::string("cannot read the archive: ") +
                          (archive_error_string(a.get()) ? archive_error_string(a.get()) : ""));
  }
  return files;
}

}  // namespace sf
