#include "artifact/artifact_contents.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <system_error>

#include "slurm_factory/archive_writer.hpp"

namespace sf {
namespace fs = std::filesystem;

namespace {

std::string octal(std::uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777U);
  return buf;
}

}  // namespace

Expected<ArtifactContents> survey_artifact_tree(const fs::path& root) {
  ArtifactContents out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) {
      return Failure::error("cannot stat " + it->path().string() + ": " +
                            std::error_code(errno, std::generic_category()).message());
    }
    ++out.entries;
    if (S_ISREG(st.st_mode)) out.bytes += static_cast<std::uint64_t>(st.st_size);
    if (S_ISLNK(st.st_mode)) continue;
    const auto from = static_cast<std::uint32_t>(st.st_mode & 07777);
    const std::uint32_t to = safe_packed_mode(from, S_ISDIR(st.st_mode));
    if (to != from) {
      out.mode_resets.push_back({it->path().lexically_relative(root).generic_string(), from, to});
    }
  }
  if (ec) return Failure::error("cannot walk " + root.string() + ": " + ec.message());
  return out;
}

std::string describe_mode_reset(const ModeReset& reset) {
  std::string bits;
  auto add = [&](std::uint32_t bit, const char* name) {
    if ((reset.from & bit) == 0) return;
    if (!bits.empty()) bits += ", ";
    bits += name;
  };
  add(S_ISUID, "setuid");
  add(S_ISGID, "setgid");
  add(S_ISVTX, "sticky");
  add(S_IWOTH, "world-writable");
  return reset.path + ": mode " + octal(reset.from) + " (" + bits + ") packaged as " +
         octal(reset.to);
}

nlohmann::json contents_json(const ArtifactContents& contents) {
  return {{"entries", contents.entries}, {"bytes", contents.bytes}};
}

bool contents_from_json(const nlohmann::json& j, ArtifactContents& out) {
  if (!j.is_object() || !j.contains("entries") || !j.contains("bytes") ||
      !j["entries"].is_number_unsigned() || !j["bytes"].is_number_unsigned()) {
    return false;
  }
  out.entries = j["entries"].get<std::uint64_t>();
  out.bytes = j["bytes"].get<std::uint64_t>();
  return true;
}

}  // namespace sf
