#include "artifact/dlopen_names.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "formats/elf_reader.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "support/strings.hpp"

namespace sf {
namespace fs = std::filesystem;

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '+' || c == '.';
}

// Where the ".so" of a library file name starts: the first ".so" followed by nothing or by
// ".<digits>" groups only; npos when `s` has none.
std::size_t so_suffix_at(std::string_view s) {
  for (std::size_t p = s.find(".so", 4); p != std::string_view::npos; p = s.find(".so", p + 1)) {
    std::string_view rest = s.substr(p + 3);
    bool ok = true;
    while (!rest.empty() && ok) {
      if (rest[0] != '.' || rest.size() < 2) {
        ok = false;
        break;
      }
      rest.remove_prefix(1);
      const auto digits = rest.find_first_not_of("0123456789");
      if (digits == 0) ok = false;
      rest.remove_prefix(digits == std::string_view::npos ? rest.size() : digits);
    }
    if (ok) return p;
  }
  return std::string_view::npos;
}

// "libpmix.so.2.1" -> {"libpmix", {"2", "1"}}; only for is_library_file_name.
struct LibraryName {
  std::string stem;
  std::vector<std::string> version;
};

LibraryName split_library_name(const std::string& name) {
  const std::size_t at = so_suffix_at(name);
  LibraryName out{name.substr(0, at), {}};
  std::string rest = name.substr(at + 3);
  while (!rest.empty()) {
    rest.erase(0, 1);  // the '.'
    const auto dot = rest.find('.');
    out.version.push_back(rest.substr(0, dot));
    rest = dot == std::string::npos ? std::string() : rest.substr(dot);
  }
  return out;
}

bool version_prefix(const std::vector<std::string>& prefix, const std::vector<std::string>& full) {
  return prefix.size() <= full.size() && std::equal(prefix.begin(), prefix.end(), full.begin());
}

bool inside(const fs::path& path, const fs::path& root) {
  const auto rel = path.lexically_relative(root);
  return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

bool is_library_file_name(std::string_view s) {
  if (s.size() < 7 || s.substr(0, 3) != "lib") return false;  // "libx.so"
  if (!std::all_of(s.begin(), s.end(), is_name_char)) return false;
  return so_suffix_at(s) != std::string_view::npos;
}

Expected<std::vector<std::string>> read_dlopen_names(const fs::path& elf) {
  auto info = read_elf(elf);
  if (!info) return info.error();
  std::ifstream in(elf, std::ios::binary);
  std::set<std::string> names;
  for (const auto& section : info->sections) {
    if (!section.alloc || section.size == 0) continue;
    if (section.name != ".rodata" && section.name.rfind(".rodata.", 0) != 0) continue;
    std::string bytes(section.size, '\0');
    in.seekg(static_cast<std::streamoff>(section.offset));
    if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
      return Failure::error(elf.string() + ": cannot read section " + section.name);
    }
    // Whole strings only: each runs from a NUL (or the section start) to the next NUL.
    std::size_t start = 0;
    while (start < bytes.size()) {
      auto end = bytes.find('\0', start);
      if (end == std::string::npos) end = bytes.size();
      const std::string_view s(bytes.data() + start, end - start);
      if (is_library_file_name(s)) names.emplace(s);
      start = end + 1;
    }
  }
  return std::vector<std::string>(names.begin(), names.end());
}

nlohmann::json DlopenNameReport::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& n : names) {
    out.push_back({{"plugin", n.plugin},
                   {"name", n.name},
                   {"target", n.target},
                   {"package", n.package},
                   {"linked", n.linked}});
  }
  return out;
}

DlopenNameReport provide_dlopen_names(const fs::path& view, const DlopenNameOptions& options) {
  DlopenNameReport report;
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(view, ec);
  const fs::path lib_dir = view / options.lib_subdir;
  const fs::path plugin_dir = view / options.plugin_subdir;
  if (!fs::is_directory(plugin_dir, ec) || !fs::is_directory(lib_dir, ec)) return report;

  // The libraries of lib_dir, by stem: each name and the real file it resolves to inside the view.
  struct Library {
    std::string name;
    LibraryName split;
    fs::path real;
  };
  std::map<std::string, std::vector<Library>> by_stem;
  for (const auto& e : fs::directory_iterator(lib_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!is_library_file_name(name)) continue;
    const fs::path real = fs::canonical(e.path(), ec);
    if (ec || !inside(real, root) || !fs::is_regular_file(real, ec)) continue;
    by_stem[split_library_name(name).stem].push_back({name, split_library_name(name), real});
  }
  std::map<std::string, std::string> declared_stem;  // stem -> package
  for (const auto& d : options.declared) {
    if (is_library_file_name(d.soname))
      declared_stem[split_library_name(d.soname).stem] = d.package;
  }

  std::vector<fs::path> plugins;
  for (const auto& e : fs::directory_iterator(plugin_dir, ec)) {
    if (!e.is_symlink(ec) && e.is_regular_file(ec) && is_elf_file(e.path())) {
      plugins.push_back(e.path());
    }
  }
  std::sort(plugins.begin(), plugins.end());
  for (const auto& plugin : plugins) {
    auto names = read_dlopen_names(plugin);
    if (!names) continue;  // not a readable ELF file: verify --deep reports it
    const std::string plugin_rel = plugin.lexically_relative(view).generic_string();
    // A plugin may try several names for one library (Slurm's lua plugins: liblua5.4.so,
    // liblua5.4.so.0, ...): a name of a stem is missing only when no name of that stem resolves.
    std::map<std::string, std::vector<std::string>> unresolved;  // stem -> names
    std::set<std::string> resolved;                              // stems
    for (const auto& name : *names) {
      const LibraryName wanted = split_library_name(name);
      const auto libs = by_stem.find(wanted.stem);
      if (libs == by_stem.end()) continue;  // not a library of the view: the host's or the driver's
      DlopenName out{plugin_rel, name, "", "", false};
      if (auto d = declared_stem.find(wanted.stem); d != declared_stem.end())
        out.package = d->second;
      for (const auto& dir : {lib_dir, plugin_dir}) {
        if (fs::exists(dir / name, ec)) {
          out.target = fs::canonical(dir / name, ec).lexically_relative(root).generic_string();
          break;
        }
      }
      if (out.target.empty()) {
        // The library whose version the name's is a prefix of; the shortest such name first
        // (its soname), so the link follows what the library's own soname link points to.
        const Library* best = nullptr;
        for (const auto& lib : libs->second) {
          if (!version_prefix(wanted.version, lib.split.version)) continue;
          if (best == nullptr || lib.name.size() < best->name.size()) best = &lib;
        }
        if (best == nullptr) {
          unresolved[wanted.stem].push_back(name);
          continue;
        }
        const fs::path link = lib_dir / name;
        const fs::path target = best->real.lexically_relative(fs::canonical(lib_dir, ec));
        fs::create_symlink(target, link, ec);
        if (ec) {
          throw PackagingError("cannot write into the view: " + ec.message(),
                               {{"file", link.string()}},
                               "check free space and permissions of the staging folder");
        }
        out.target = best->real.lexically_relative(root).generic_string();
        out.linked = true;
        log().info("{} dlopens {}: linked {} -> {}", plugin_rel, name,
                   (fs::path(options.lib_subdir) / name).generic_string(), target.string());
      }
      resolved.insert(wanted.stem);
      report.names.push_back(std::move(out));
    }
    for (const auto& [stem, missing] : unresolved) {
      if (resolved.count(stem) != 0) continue;
      std::string have;
      for (const auto& lib : by_stem.at(stem)) have += (have.empty() ? "" : ", ") + lib.name;
      std::string asked = join(missing, ", ");
      const auto d = declared_stem.find(stem);
      throw PackagingError(
          "a plugin dlopens a version of a library that the view does not carry",
          {{"plugin", plugin_rel},
           {"dlopen name", asked},
           {"the view has", options.lib_subdir + "/{" + have + "}"}},
          "build the library's recipe in a version with that soname (e.g. --from " +
              (d == declared_stem.end() ? std::string("<package>") : d->second) +
              "=source --with ...), or use a Slurm release whose plugin supports the version the "
              "view carries");
    }
  }
  return report;
}

}  // namespace sf
