#include "slurm_factory/core/relocation.hpp"

#include <elf.h>

#include <algorithm>
#include <system_error>

#include "slurm_factory/core/elf_reader.hpp"
#include "slurm_factory/core/shell_quote.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

bool is_dynamic_object(const ElfInfo& info) {
  return info.has_dynamic && (info.type == ET_EXEC || info.type == ET_DYN);
}

bool has_debug_sections(const ElfInfo& info) {
  return std::any_of(info.sections.begin(), info.sections.end(), [](const ElfSection& s) {
    return !s.alloc && s.name.rfind(".debug_", 0) == 0;
  });
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Regular files under `tree` (no symlinks followed), relative and sorted.
Expected<std::vector<std::string>> regular_files(const fs::path& tree) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(tree, fs::directory_options::none, ec);
  if (ec) return Failure::error("cannot read " + tree.string() + ": " + ec.message());
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) return Failure::error("cannot walk " + tree.string() + ": " + ec.message());
    const auto st = it->symlink_status(ec);
    if (ec) return Failure::error("cannot stat " + it->path().string() + ": " + ec.message());
    if (fs::is_regular_file(st))
      out.push_back(it->path().lexically_relative(tree).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string relocated_runpath(const std::string& dir,
                              const std::vector<std::string>& library_dirs) {
  const fs::path from = fs::path("/p") / dir;
  std::string out;
  for (const auto& lib : library_dirs) {
    const fs::path rel =
        (fs::path("/p") / lib).lexically_normal().lexically_relative(from.lexically_normal());
    std::string entry = "$ORIGIN";
    const std::string r = rel.generic_string();
    if (!r.empty() && r != ".") entry += "/" + r;
    if (!out.empty()) out += ":";
    out += entry;
  }
  return out;
}

Expected<RelocationPlan> plan_relocation(const fs::path& tree,
                                         const std::vector<std::string>& library_dirs) {
  auto files = regular_files(tree);
  if (!files) return files.error();
  RelocationPlan plan;
  for (const auto& rel : *files) {
    if (ends_with(rel, ".la")) {
      plan.libtool_archives.push_back(rel);
      continue;
    }
    const fs::path full = tree / rel;
    if (!is_elf_file(full)) continue;
    auto info = read_elf(full);
    if (!info) return info.error();
    if (!is_dynamic_object(*info)) continue;
    RelocationItem item;
    item.path = rel;
    item.runpath = relocated_runpath(fs::path(rel).parent_path().generic_string(), library_dirs);
    item.split_debug = has_debug_sections(*info);
    plan.elf_files.push_back(std::move(item));
  }
  return plan;
}

std::string relocation_script(const RelocationPlan& plan, const std::string& tree,
                              const std::string& debug_tree) {
  std::string s;
  s += "set -eu\n";
  s += "cd " + shell_quote(tree) + "\n";
  s += "DEBUG_TREE=" + shell_quote(debug_tree) + "\n";
  s += "# split FILE: debug info into $DEBUG_TREE/FILE.debug, linked by .gnu_debuglink\n";
  s += "split() {\n"
       "  mkdir -p \"$DEBUG_TREE/$(dirname \"$1\")\"\n"
       "  chmod u+w \"$1\"\n"
       "  objcopy --only-keep-debug \"$1\" \"$DEBUG_TREE/$1.debug\"\n"
       "  objcopy --strip-debug --add-gnu-debuglink=\"$DEBUG_TREE/$1.debug\" \"$1\"\n"
       "}\n";
  s += "# runpath FILE RUNPATH: sets DT_RUNPATH (patchelf turns a DT_RPATH into DT_RUNPATH)\n";
  s += "runpath() {\n"
       "  chmod u+w \"$1\"\n"
       "  patchelf --set-rpath \"$2\" \"$1\"\n"
       "}\n";
  s += "echo '==> relocate: " + std::to_string(plan.elf_files.size()) + " ELF file(s)'\n";
  for (const auto& item : plan.elf_files) {
    if (item.split_debug) s += "split " + shell_quote(item.path) + "\n";
    s += "runpath " + shell_quote(item.path) + " " + shell_quote(item.runpath) + "\n";
  }
  s += "echo '==> relocate: done'\n";
  return s;
}

std::size_t remove_libtool_archives(const fs::path& tree, const RelocationPlan& plan) {
  std::size_t n = 0;
  for (const auto& rel : plan.libtool_archives) {
    std::error_code ec;
    if (fs::remove(tree / rel, ec)) ++n;
  }
  return n;
}

std::vector<std::string> check_relocation(const fs::path& tree) {
  std::vector<std::string> problems;
  auto files = regular_files(tree);
  if (!files) return {files.error().message};
  for (const auto& rel : *files) {
    if (ends_with(rel, ".la")) {
      problems.push_back(rel + ": libtool archive left in the tree");
      continue;
    }
    const fs::path full = tree / rel;
    if (!is_elf_file(full)) continue;
    auto info = read_elf(full);
    if (!info) {
      problems.push_back(rel + ": " + info.error().message);
      continue;
    }
    if (!is_dynamic_object(*info)) continue;
    if (!info->rpath.empty()) {
      problems.push_back(rel + ": has DT_RPATH (expected DT_RUNPATH only)");
    }
    if (info->runpath.empty()) {
      problems.push_back(rel + ": no RUNPATH");
    }
    for (const auto& entry : info->runpath) {
      if (entry.rfind("$ORIGIN", 0) != 0) {
        problems.push_back(rel + ": RUNPATH entry '" + entry + "' is not $ORIGIN-relative");
      }
    }
  }
  return problems;
}

}  // namespace sf
