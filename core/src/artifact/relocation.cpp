#include "artifact/relocation.hpp"

#include <elf.h>

#include <algorithm>
#include <deque>
#include <map>
#include <system_error>

#include "formats/elf_reader.hpp"
#include "slurm_factory/shell_quote.hpp"
#include "support/safe_walk.hpp"
#include "support/strings.hpp"

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

// Regular files under `tree` (no symlink followed, `tree` itself included), relative and sorted.
Expected<std::vector<std::string>> regular_files(const fs::path& tree) {
  auto entries = walk_tree(tree);
  if (!entries) return entries.error();
  std::vector<std::string> out;
  for (const auto& e : *entries) {
    if (e.kind == TreeEntryKind::kFile) out.push_back(e.path);
  }
  return out;
}

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    std::string c =
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!c.empty() && c != ".") out.push_back(std::move(c));
    if (slash == std::string::npos) return out;
    start = slash + 1;
  }
}

// Whether the link at `link` (relative to the tree) ends inside the tree when it is resolved as
// the kernel would, substituting the tree's own `links` met on the way (at most 40 of them).
bool resolves_inside(const std::map<std::string, std::string>& links, const std::string& link) {
  std::vector<std::string> at = split(link);
  at.pop_back();
  const std::string& first = links.at(link);
  if (first.empty() || first.front() == '/') return false;
  std::deque<std::string> todo;
  for (auto& c : split(first)) todo.push_back(std::move(c));
  int hops = 0;
  while (!todo.empty()) {
    const std::string c = todo.front();
    todo.pop_front();
    if (c == "..") {
      if (at.empty()) return false;
      at.pop_back();
      continue;
    }
    at.push_back(c);
    auto it = links.find(join(at, "/"));
    if (it == links.end()) continue;
    if (++hops > 40 || it->second.empty() || it->second.front() == '/') return false;
    at.pop_back();
    const auto more = split(it->second);
    todo.insert(todo.begin(), more.begin(), more.end());
  }
  return true;
}

// `tree` as its parent and its name, so that `tree` itself is opened without following a link.
std::pair<fs::path, std::string> beneath(const fs::path& tree) {
  fs::path t = fs::absolute(tree).lexically_normal();
  if (!t.has_filename()) t = t.parent_path();
  return {t.parent_path(), t.filename().string()};
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
                              const std::string& debug_tree, const std::string& objcopy) {
  std::string s;
  s += "set -eu\n";
  s += "OBJCOPY=" + shell_quote(objcopy) + "\n";
  s += "cd " + shell_quote(tree) + "\n";
  s += "DEBUG_TREE=" + shell_quote(debug_tree) + "\n";
  s += "# split FILE: debug info into $DEBUG_TREE/FILE.debug, linked by .gnu_debuglink\n";
  s += "split() {\n"
       "  mkdir -p \"$DEBUG_TREE/$(dirname \"$1\")\"\n"
       "  chmod u+w \"$1\"\n"
       "  \"$OBJCOPY\" --only-keep-debug \"$1\" \"$DEBUG_TREE/$1.debug\"\n"
       "  \"$OBJCOPY\" --strip-debug --add-gnu-debuglink=\"$DEBUG_TREE/$1.debug\" \"$1\"\n"
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
  // `tree` itself must not be a link: its folders are opened below its parent, never followed.
  const auto [parent, name] = beneath(tree);
  std::size_t n = 0;
  for (const auto& rel : plan.libtool_archives) {
    if (remove_file_beneath(parent, name + "/" + rel)) ++n;
  }
  return n;
}

Expected<StagedLinks> settle_staged_links(const fs::path& tree, const std::string& prefix) {
  auto entries = walk_tree(tree);
  if (!entries) return entries.error();
  const fs::path root = fs::path(prefix).lexically_normal();
  std::map<std::string, std::string> links;  // path -> target, as it will be
  StagedLinks out;
  std::vector<std::pair<std::string, std::string>> rewrites;
  for (const auto& e : *entries) {
    if (e.kind != TreeEntryKind::kSymlink) continue;
    std::string target = e.link_target;
    if (!target.empty() && target.front() == '/') {
      const fs::path t = fs::path(target).lexically_normal();
      const fs::path rel = t.lexically_relative(root);
      if (!rel.empty() && *rel.begin() != "..") {
        const fs::path from = root / fs::path(e.path).parent_path();
        std::string relative = t.lexically_relative(from).generic_string();
        if (relative.empty()) relative = ".";
        rewrites.emplace_back(e.path, relative);
        out.rewritten.push_back(e.path + ": " + printable(target) + " -> " + relative);
        target = relative;
      }
    }
    links[e.path] = target;
  }
  for (const auto& e : *entries) {
    if (e.kind == TreeEntryKind::kSymlink && !resolves_inside(links, e.path)) {
      out.refused.push_back(printable(e.path) + " -> " + printable(e.link_target));
    }
  }
  if (!out.refused.empty()) return out;
  const auto [parent, name] = beneath(tree);
  for (const auto& [path, target] : rewrites) {
    if (auto r = replace_symlink_beneath(parent, name + "/" + path, target); !r) return r.error();
  }
  return out;
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
