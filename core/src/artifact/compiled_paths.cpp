#include "artifact/compiled_paths.hpp"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "formats/elf_reader.hpp"
#include "recipes/planner.hpp"

namespace sf {
namespace fs = std::filesystem;

namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// The strings `hits` found in `file` as CompiledPaths (ELF section and classification added).
void append_compiled_paths(std::vector<CompiledPath>& out, const fs::path& view,
                           const fs::path& file, bool elf, std::vector<EmbeddedString>& hits,
                           const std::string& build_prefix, const RelocationFallbacks& fallbacks) {
  std::optional<ElfInfo> info;
  if (elf) {
    auto r = read_elf(file);
    if (r) info = std::move(*r);
  }
  for (auto& s : hits) {
    CompiledPath p;
    p.file = file.lexically_relative(view).generic_string();
    p.offset = s.offset;
    p.value = std::move(s.value);
    p.elf = elf;
    if (info) {
      if (const ElfSection* sec = info->section_at(p.offset)) {
        p.section = sec->name;
        p.loaded = sec->alloc;
      }
    }
    classify_compiled_path(p, build_prefix, fallbacks);
    out.push_back(std::move(p));
  }
}

}  // namespace

RelocationFallbacks relocation_fallbacks(const std::vector<PackageSpec>& packages) {
  RelocationFallbacks out;
  for (const auto& spec : packages) {
    for (const auto& patch : spec.patches) {
      for (const auto& path : patch.relocates) out.emplace(path, patch.file);
    }
  }
  return out;
}

void classify_compiled_path(CompiledPath& p, const std::string& build_prefix,
                            const RelocationFallbacks& fallbacks) {
  if (!p.elf) {
    p.handling = "text file: rewritten by slurm_install.sh --prefix";
    p.handled = true;
    return;
  }
  if (!p.section.empty() && p.section != ".dynstr" && p.section != ".rodata" &&
      p.section != ".data" && p.section != ".data.rel.ro" &&
      (starts_with(p.section, ".debug") || p.section == ".comment" ||
       starts_with(p.section, ".note"))) {
    p.handling = "debug/metadata only (" + p.section + "), not used at run time";
    p.handled = true;
    return;
  }
  // The string's path relative to the prefix, for the known cases.
  const auto at = p.value.find(build_prefix);
  const std::string rest = at == std::string::npos ? "" : p.value.substr(at + build_prefix.size());
  // OpenSSL (libcrypto): the default and base providers are built into libcrypto, so its
  // compiled-in MODULESDIR and ENGINESDIR are read only when an openssl.cnf (the host's: openssldir
  // is /etc/ssl) activates the legacy provider or names an engine; nothing in the view does.
  // OPENSSL_MODULES and OPENSSL_ENGINES override them (docs/relocation.md).
  const bool libcrypto = p.file.find("libcrypto.so") != std::string::npos;
  if (libcrypto && p.value.find(build_prefix + "/lib/ossl-modules") != std::string::npos) {
    p.handling =
        "OpenSSL MODULESDIR: default providers are built in; only a config loading the legacy "
        "provider reads it (set OPENSSL_MODULES=<prefix>/view/lib/ossl-modules then)";
    p.handled = true;
    return;
  }
  if (libcrypto && p.value.find(build_prefix + "/lib/engines-3") != std::string::npos) {
    p.handling =
        "OpenSSL ENGINESDIR: read only when a config or program loads an engine by name (set "
        "OPENSSL_ENGINES=<prefix>/view/lib/engines-3 then)";
    p.handled = true;
    return;
  }
  if (libcrypto && starts_with(p.value, "compiler: ")) {
    p.handling = "OpenSSL's build flags, reported by OpenSSL_version(OPENSSL_CFLAGS): text only";
    p.handled = true;
    return;
  }
  // A recipe patch makes the program fall back relative to itself when the compiled-in path does
  // not exist (docs/relocation.md): the whole string is <build prefix>/<relocated path>.
  if (p.value == build_prefix + rest && rest.size() > 1) {
    if (auto it = fallbacks.find(rest.substr(1)); it != fallbacks.end()) {
      p.handling = "fallback relative to the executable (patch " + it->second + "): used when " +
                   p.value + " does not exist; an explicit setting still wins";
      p.handled = true;
      return;
    }
  }
  // Without such a patch: the flags and settings our units and install script pass. slurmd
  // builds the slurmstepd path from <sbindir> ("%s/slurmstepd"), the only use of that string.
  if (rest == "/sbin/slurmstepd" || rest == "/sbin") {
    p.handling = "slurmd -d <prefix>/view/sbin/slurmstepd in the slurmd unit and slurm_install.sh";
    p.handled = true;
  } else if (rest == "/lib/slurm" || rest == "/lib64/slurm") {
    p.handling = "PluginDir=<prefix>/view" + rest + " in slurm.conf and slurmdbd.conf";
    p.handled = true;
  } else if (starts_with(rest, "/etc")) {
    p.handling =
        "SLURM_CONF=/etc/slurm/slurm.conf in the units, slurm_install.sh and the modulefile";
    p.handled = true;
  } else if (p.section == ".dynstr") {
    p.handling = "dynamic section string (RPATH/RUNPATH): must be $ORIGIN-relative; verify --deep";
    p.handled = false;
  } else {
    p.handling = "no flag or config setting follows the install prefix";
    p.handled = false;
  }
}

std::vector<CompiledPath> scan_compiled_paths(const fs::path& view, const std::string& build_prefix,
                                              ScanScope scope,
                                              const RelocationFallbacks& fallbacks) {
  std::vector<CompiledPath> out;
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::recursive_directory_iterator it(view, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  // The byte search (read + memmem over every file: the bulk of the work) runs on every CPU, each
  // worker taking the next file; the few files with hits are then read as ELF in order, on this
  // thread, so the result does not depend on the scheduling.
  std::vector<std::vector<EmbeddedString>> hits(files.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < files.size();) {
      // Text files: an ELF file is dropped after its magic number (one open per file). ELF
      // files: every file is searched and only a file with hits is checked for being ELF.
      auto found = find_embedded_strings(files[i], build_prefix, scope == ScanScope::kTextFiles);
      if (!found || found->empty()) continue;
      if (scope == ScanScope::kElfFiles && !is_elf_file(files[i])) continue;
      hits[i] = std::move(*found);
    }
  };
  const unsigned cpus = std::max(1U, std::thread::hardware_concurrency());
  const std::size_t workers = std::min<std::size_t>(cpus, (files.size() + 63) / 64);
  std::vector<std::thread> pool;
  for (std::size_t w = 1; w < workers; ++w) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (hits[i].empty()) continue;
    append_compiled_paths(out, view, files[i], is_elf_file(files[i]), hits[i], build_prefix,
                          fallbacks);
  }
  return out;
}

CompiledPathCollector::CompiledPathCollector(fs::path view, std::string build_prefix,
                                             RelocationFallbacks fallbacks)
    : view_(std::move(view)),
      build_prefix_(std::move(build_prefix)),
      fallbacks_(std::move(fallbacks)) {}

void CompiledPathCollector::add(const std::string& root_relative, std::string_view content) {
  fed_ = true;
  static const std::string kView = "view/";
  if (!starts_with(root_relative, kView)) return;
  if (content.size() < 4 || content.substr(0, 4) != std::string_view("\x7f"
                                                                     "ELF",
                                                                     4))
    return;
  auto hits = find_embedded_strings_in(content, build_prefix_);
  if (hits.empty()) return;
  append_compiled_paths(found_, view_, view_ / root_relative.substr(kView.size()), true, hits,
                        build_prefix_, fallbacks_);
}

std::vector<CompiledPath> CompiledPathCollector::result() const {
  std::vector<CompiledPath> out = found_;
  std::stable_sort(out.begin(), out.end(), [](const CompiledPath& a, const CompiledPath& b) {
    return fs::path(a.file) < fs::path(b.file);
  });
  return out;
}

std::vector<std::string> text_files_naming_prefix(const std::vector<CompiledPath>& paths) {
  std::set<std::string> files;
  for (const auto& p : paths) {
    if (!p.elf) files.insert(p.file);
  }
  return {files.begin(), files.end()};
}

nlohmann::json compiled_paths_json(const std::vector<CompiledPath>& paths) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : paths) {
    out.push_back({{"file", p.file},
                   {"offset", p.offset},
                   {"value", p.value},
                   {"section", p.section},
                   {"loaded", p.loaded},
                   {"handling", p.handling},
                   {"handled", p.handled}});
  }
  return out;
}

}  // namespace sf
