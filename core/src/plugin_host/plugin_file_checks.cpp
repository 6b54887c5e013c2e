#include "plugin_host/plugin_file_checks.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <string>

#include "plugin_host/plugin_refusal.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

namespace fs = std::filesystem;
using plugin_refusal::kRemoveHint;

// Reads the first bytes of the file: a shared object starts with the ELF magic.
bool has_elf_magic(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::array<char, 4> magic{};
  in.read(magic.data(), magic.size());
  return in.gcount() == 4 && magic[0] == '\x7f' && magic[1] == 'E' && magic[2] == 'L' &&
         magic[3] == 'F';
}

std::string describe_file_content(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::array<char, 16> head{};
  in.read(head.data(), head.size());
  const auto n = static_cast<std::size_t>(in.gcount());
  if (n == 0) return "an empty file";
  std::string printable;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = head[i];
    printable += (c >= 0x20 && c < 0x7f) ? c : '.';
  }
  return "a file starting with \"" + printable + "\"";
}

// Like the dynamic loader's secure mode: code is loaded only from a file nobody else can swap.
// Refused: a world-writable .so or folder holding it; when running as root, a .so or folder owned
// by another user than root; any world-writable folder above it without the sticky bit (anyone
// could rename the path away). Returns why, or "".
std::string untrusted_plugin_location(const fs::path& file) {
  const uid_t me = ::geteuid();
  auto owner_problem = [me](const struct stat& st) -> std::string {
    if (me == 0 && st.st_uid != 0) {
      return "is owned by uid " + std::to_string(st.st_uid) + ", not root, and this runs as root";
    }
    return {};
  };
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return "cannot be examined (stat failed)";
  if ((st.st_mode & S_IWOTH) != 0) return "is writable by every user (mode o+w)";
  if (std::string p = owner_problem(st); !p.empty()) return p;
  const fs::path folder = file.parent_path();
  if (::stat(folder.c_str(), &st) != 0) return "lies in a folder that cannot be examined";
  if ((st.st_mode & S_IWOTH) != 0) {
    return "lies in " + folder.string() + ", a folder every user can write to (mode o+w)";
  }
  if (std::string p = owner_problem(st); !p.empty())
    return "lies in " + folder.string() + ", which " + p;
  for (fs::path dir = folder.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (::stat(dir.c_str(), &st) == 0 && (st.st_mode & S_IWOTH) != 0 &&
        (st.st_mode & S_ISVTX) == 0) {
      return "lies under " + dir.string() +
             ", a folder every user can write to without the sticky bit";
    }
    if (dir == dir.root_path()) break;
  }
  return {};
}

}  // namespace

void check_plugin_file(const fs::path& file) {
  const std::string path = file.string();
  if (const std::string why = untrusted_plugin_location(file); !why.empty()) {
    throw PluginError("plugin file " + path + " " + why + "; refusing to load code from it",
                      {{"file", path}},
                      "install plugins in a folder only root (or you) can write, e.g. `chmod o-w` "
                      "the file and its folder and `chown` them to the user running "
                      "slurm-factory, " +
                          kRemoveHint);
  }
  if (!has_elf_magic(file)) {
    throw PluginError("plugin file " + path +
                          " is not a shared object: expected an ELF file, found " +
                          describe_file_content(file),
                      {{"file", path}},
                      "replace it with the plugin's built .so (lib<name>.so from "
                      "slurm_factory_add_plugin), " +
                          kRemoveHint);
  }
}

}  // namespace sf
