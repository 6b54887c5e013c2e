#include "artifact/artifact_diff.hpp"

#include <algorithm>
#include <map>

#include "formats/archive_reader.hpp"
#include "formats/elf_reader.hpp"
#include "slurm_factory/digest.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

std::map<std::string, ArchiveEntryInfo> by_path(std::vector<ArchiveEntryInfo> entries) {
  std::map<std::string, ArchiveEntryInfo> out;
  for (auto& e : entries) {
    std::string key = e.path;
    while (key.size() > 1 && key.back() == '/') key.pop_back();
    out[key] = std::move(e);
  }
  return out;
}

}  // namespace

Expected<std::vector<std::string>> differing_elf_sections(const fs::path& expected,
                                                          const fs::path& rebuilt) {
  auto a = read_elf(expected);
  if (!a) return a.error();
  auto b = read_elf(rebuilt);
  if (!b) return b.error();
  std::map<std::string, const ElfSection*> theirs;
  for (const auto& s : b->sections) theirs.emplace(s.name, &s);
  std::vector<std::string> out;
  std::map<std::string, bool> seen;
  for (const auto& s : a->sections) {
    if (seen[s.name]) continue;  // a name twice (rare): the first of each is compared
    seen[s.name] = true;
    auto it = theirs.find(s.name);
    if (it == theirs.end()) {
      out.push_back("-" + s.name);
      continue;
    }
    const ElfSection& t = *it->second;
    if (s.size != t.size) {
      out.push_back(s.name);
      continue;
    }
    if (s.size == 0) continue;
    auto ha = sha256_file_hex(expected, s.offset, s.size);
    auto hb = sha256_file_hex(rebuilt, t.offset, t.size);
    if (!ha) return ha.error();
    if (!hb) return hb.error();
    if (*ha != *hb) out.push_back(s.name);
  }
  for (const auto& s : b->sections) {
    if (!seen.count(s.name)) {
      seen[s.name] = true;
      out.push_back("+" + s.name);
    }
  }
  return out;
}

Expected<ArchiveComparison> compare_archives(const fs::path& expected, const fs::path& rebuilt,
                                             const fs::path& scratch) {
  ArchiveComparison c;
  auto sa = sha256_file_hex(expected);
  if (!sa) return sa.error();
  auto sb = sha256_file_hex(rebuilt);
  if (!sb) return sb.error();
  c.expected_sha256 = *sa;
  c.rebuilt_sha256 = *sb;
  auto ia = read_archive_index(expected);
  if (!ia) return ia.error();
  auto ib = read_archive_index(rebuilt);
  if (!ib) return ib.error();
  const auto a = by_path(std::move(*ia));
  const auto b = by_path(std::move(*ib));
  c.entries = a.size();
  std::vector<std::size_t> elf_candidates;
  for (const auto& [path, ea] : a) {
    auto it = b.find(path);
    if (it == b.end()) {
      c.differences.push_back({path, "only in expected", ea.size, 0, {}});
      continue;
    }
    const ArchiveEntryInfo& eb = it->second;
    FileDifference d{path, "", ea.size, eb.size, {}};
    if (ea.type != eb.type) {
      d.kind = "type";
    } else if (ea.sha256 != eb.sha256 || ea.size != eb.size) {
      d.kind = "content";
      if (ea.type == "file") elf_candidates.push_back(c.differences.size());
    } else if (ea.link_target != eb.link_target) {
      d.kind = "link";
    } else if (ea.mode != eb.mode) {
      d.kind = "mode";
    } else {
      continue;
    }
    c.differences.push_back(std::move(d));
  }
  for (const auto& [path, eb] : b) {
    if (!a.count(path)) c.differences.push_back({path, "only in rebuilt", 0, eb.size, {}});
  }
  std::sort(c.differences.begin(), c.differences.end(),
            [](const FileDifference& x, const FileDifference& y) { return x.path < y.path; });
  if (!elf_candidates.empty()) {
    const fs::path ta = scratch / "expected";
    const fs::path tb = scratch / "rebuilt";
    auto xa = extract_archive(expected, ta);
    if (!xa) return xa.error();
    auto xb = extract_archive(rebuilt, tb);
    if (!xb) return xb.error();
    for (auto& d : c.differences) {
      if (d.kind != "content") continue;
      const fs::path fa = ta / d.path;
      const fs::path fb = tb / d.path;
      if (!is_elf_file(fa) || !is_elf_file(fb)) continue;
      if (auto s = differing_elf_sections(fa, fb)) d.sections = std::move(*s);
    }
  }
  return c;
}

std::string format_differences(const ArchiveComparison& c) {
  std::string out;
  for (const auto& d : c.differences) {
    out += "  " + d.path + "  " + d.kind + "  " + std::to_string(d.expected_size) + " -> " +
           std::to_string(d.rebuilt_size) + " bytes";
    if (!d.sections.empty()) {
      out += "  sections:";
      for (const auto& s : d.sections) out += " " + s;
    }
    out += "\n";
  }
  return out;
}

}  // namespace sf
