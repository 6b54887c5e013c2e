#include "artifact/artifact_verifier.hpp"

#include <stdlib.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "artifact/artifact_checksums.hpp"
#include "artifact/artifact_contents.hpp"
#include "artifact/view_assembler.hpp"
#include "formats/archive_reader.hpp"
#include "formats/elf_reader.hpp"
#include "slurm_factory/errors.hpp"
#include "support/file_io.hpp"
#include "support/host_arch.hpp"
#include "support/human_size.hpp"
#include "support/input_validation.hpp"

namespace sf {
namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Expands $ORIGIN / ${ORIGIN} in a RUNPATH entry.
std::string expand_origin(std::string entry, const std::string& origin) {
  for (const std::string token : {"${ORIGIN}", "$ORIGIN"}) {
    size_t pos = 0;
    while ((pos = entry.find(token, pos)) != std::string::npos) {
      entry.replace(pos, token.size(), origin);
      pos += origin.size();
    }
  }
  return entry;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sf-verify-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw VerificationError("cannot create a temporary folder to unpack into", {{"folder", tmpl}},
                              "set TMPDIR to a writable folder with room");
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

const std::vector<std::string>& baseline_system_libraries() {
  static const std::vector<std::string> libs = {
      "libc.so.*",      "libm.so.*",    "libpthread.so.*", "libdl.so.*",    "librt.so.*",
      "libresolv.so.*", "libutil.so.*", "ld-linux*.so.*",  "libgcc_s.so.*", "libstdc++.so.*",
      "libcrypt.so.*",  "libnsl.so.*",  "libanl.so.*"};
  return libs;
}

fs::path provenance_path_for(const fs::path& artifact) {
  std::string name = artifact.filename().string();
  for (const char* ext : {".tar.zst", ".tar.gz", ".tar.xz", ".tar"}) {
    if (ends_with(name, ext)) {
      name.resize(name.size() - std::string(ext).size());
      break;
    }
  }
  return artifact.parent_path() / (name + ".provenance.json");
}

void check_view_elf_files(const fs::path& view, const std::vector<std::string>& system_libraries,
                          VerifyReport& report, const std::string& arch) {
  std::vector<fs::path> files;
  std::set<std::string> provided;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(view, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find(".so") != std::string::npos) provided.insert(name);
    if (!it->is_symlink(ec) && it->is_regular_file(ec) && is_elf_file(it->path())) {
      files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  const ViewAssemblyOptions defaults;
  const fs::path root = fs::weakly_canonical(view);
  for (const auto& f : files) {
    auto info = read_elf(f);
    const std::string rel = "view/" + f.lexically_relative(view).generic_string();
    if (!info) {
      report.problems.push_back({rel, "unreadable ELF: " + info.error().message});
      continue;
    }
    ++report.elf_checked;
    if (!info->soname.empty()) provided.insert(info->soname);
    if (const std::string m = elf_arch_mismatch(info->machine, arch); !m.empty()) {
      report.problems.push_back({rel, m});
    }
  }
  for (const auto& f : files) {
    auto info = read_elf(f);
    if (!info || !info->has_dynamic) continue;
    const std::string rel = "view/" + f.lexically_relative(view).generic_string();
    const std::string origin = f.parent_path().string();
    std::vector<fs::path> search;
    auto check_paths = [&](const std::vector<std::string>& entries, const char* kind) {
      for (const auto& e : entries) {
        if (!e.empty() && e[0] == '/') {
          report.problems.push_back({rel, std::string("absolute ") + kind + " " + e});
        } else if (e.rfind("$ORIGIN", 0) != 0 && e.rfind("${ORIGIN}", 0) != 0) {
          report.problems.push_back(
              {rel, std::string(kind) + " entry '" + e + "' is relative to the working directory"});
        } else {
          search.emplace_back(expand_origin(e, origin));
        }
      }
    };
    check_paths(info->rpath, "RPATH");
    check_paths(info->runpath, "RUNPATH");
    for (const auto& soname : info->needed) {
      bool on_path = false;
      for (const auto& dir : search) {
        const fs::path candidate = fs::weakly_canonical(dir / soname, ec);
        if (!ec && fs::exists(candidate) && candidate.string().rfind(root.string() + "/", 0) == 0) {
          on_path = true;
          break;
        }
      }
      if (on_path) continue;
      if (matches_any(soname, system_libraries) || matches_any(soname, defaults.driver_libraries)) {
        continue;
      }
      if (provided.count(soname) != 0) {
        report.warnings.push_back({rel, "NEEDED " + soname +
                                            " is in the view but not on this file's RUNPATH (found "
                                            "only if the loading process already has it)"});
        continue;
      }
      report.problems.push_back(
          {rel, "NEEDED " + soname + " not found (not in the view, not a system library)"});
    }
  }
}

VerifyReport verify_artifact(const fs::path& artifact, const VerifyOptions& options) {
  VerifyReport report;
  report.artifact = artifact;
  if (!fs::is_regular_file(artifact)) {
    throw VerificationError("artifact not found", {{"file", artifact.string()}},
                            "give the path of the .tar.zst (or .tar.gz / .tar.xz) file");
  }
  const fs::path dir = artifact.parent_path().empty() ? fs::path(".") : artifact.parent_path();
  const std::string name = artifact.filename().string();
  const fs::path provenance = provenance_path_for(artifact);

  // 1. Signature over SHA256SUMS.
  const fs::path sums_path = dir / kChecksumsFile;
  const fs::path asc_path = dir / kChecksumsSignatureFile;
  std::vector<ChecksumLine> sums;
  if (!fs::exists(sums_path)) {
    report.problems.push_back({kChecksumsFile, "missing beside the artifact"});
  } else {
    const std::string text = read_file(sums_path);
    try {
      sums = parse_sha256sums(text, sums_path.string());
    } catch (const VerificationError& e) {
      report.problems.push_back(
          {kChecksumsFile, e.what() + std::string(" (") + e.context_value("file") + ")"});
    }
    if (!fs::exists(asc_path)) {
      report.problems.push_back({kChecksumsSignatureFile, "missing: the checksums are not signed"});
    } else {
      GpgVerifier verifier(options.trust);
      auto signer = verifier.verify_detached(text, read_file(asc_path));
      if (signer) {
        report.signer = *signer;
      } else {
        report.problems.push_back({kChecksumsSignatureFile, signer.error().message});
      }
    }
  }

  // 1b. The artifact's own detached signature, when it is there (artifacts made before it existed
  // have only SHA256SUMS.asc).
  if (const fs::path own = artifact_signature_path(artifact); fs::exists(own)) {
    const std::string own_name = own.filename().string();
    GpgVerifier verifier(options.trust);
    auto signer = verifier.verify_detached(read_file(artifact), read_file(own));
    if (!signer) {
      report.problems.push_back(
          {own_name, "signature of " + name + " does not verify: " + signer.error().message});
    } else if (report.signer.empty()) {
      report.signer = *signer;
    } else if (*signer != report.signer) {
      report.warnings.push_back(
          {own_name, "signed by " + *signer + ", SHA256SUMS.asc by " + report.signer});
    }
  }

  // 2. Checksums of the artifact and its provenance.
  nlohmann::json prov;
  for (const fs::path& f : {artifact, provenance}) {
    const std::string fname = f.filename().string();
    auto line = std::find_if(sums.begin(), sums.end(),
                             [&](const ChecksumLine& l) { return l.file == fname; });
    if (!fs::exists(f)) {
      report.problems.push_back({fname, "missing"});
      continue;
    }
    if (line == sums.end()) {
      if (fs::exists(sums_path)) report.problems.push_back({fname, "not listed in SHA256SUMS"});
      continue;
    }
    auto actual = sha256_of_file(f);
    if (!actual) {
      report.problems.push_back({fname, actual.error().message});
    } else if (*actual != line->sha256) {
      report.problems.push_back(
          {fname, "sha256 mismatch: SHA256SUMS says " + line->sha256 + ", file has " + *actual});
    }
  }
  if (fs::exists(provenance)) {
    try {
      prov = nlohmann::json::parse(read_file(provenance));
    } catch (const nlohmann::json::exception& e) {
      report.problems.push_back(
          {provenance.filename().string(), std::string("not JSON: ") + e.what()});
    }
  }

  if (!options.deep) return report;
  // Nothing of an artifact that is not proven is unpacked: not one temporary folder.
  if (!report.problems.empty()) {
    report.problems.push_back({name,
                               "not unpacked for --deep: its signature and checksums must "
                               "verify first (see the problems above)"});
    return report;
  }

  // 3. Deep: unpack (under caps) and walk every ELF.
  ExtractOptions extract;
  extract.max_bytes = options.max_unpacked_bytes;
  extract.max_entries = options.max_unpacked_entries;
  if (ArtifactContents declared; prov.is_object() && prov.contains("contents") &&
                                 contents_from_json(prov["contents"], declared)) {
    extract.max_bytes = std::min(extract.max_bytes, declared.bytes);
    extract.max_entries = std::min(extract.max_entries, declared.entries);
  } else {
    report.warnings.push_back(
        {provenance.filename().string(),
         "declares no contents (entries, bytes): unpacking under the absolute caps of " +
             std::to_string(extract.max_entries) + " entries and " +
             human_size(extract.max_bytes)});
  }
  std::vector<std::string> system = options.system_libraries;
  if (prov.is_object() && prov.contains("toolchain") &&
      prov["toolchain"].contains("system_libraries")) {
    for (const auto& s : prov["toolchain"]["system_libraries"])
      system.push_back(s.get<std::string>());
  } else {
    report.warnings.push_back({provenance.filename().string(),
                               "no toolchain system-library list: using the glibc baseline"});
    const auto& base = baseline_system_libraries();
    system.insert(system.end(), base.begin(), base.end());
  }
  TempDir tmp;
  auto extracted = extract_archive(artifact, tmp.path(), extract);
  if (!extracted) {
    report.problems.push_back({name, "cannot unpack: " + extracted.error().message});
    return report;
  }
  for (const char* required : {"view", "modules/slurm", "data/slurm_assets/slurm_install.sh"}) {
    if (!fs::exists(tmp.path() / required)) {
      report.problems.push_back({name, std::string("has no ") + required});
    }
  }
  // The architecture the signed provenance declares: every ELF file must be built for it.
  std::string arch;
  if (prov.is_object() && prov.contains("toolchain") && prov["toolchain"].is_object() &&
      prov["toolchain"].contains("arch") && prov["toolchain"]["arch"].is_string()) {
    arch = prov["toolchain"]["arch"].get<std::string>();
  }
  if (!prov.is_object() || !prov.contains("toolchain")) {
    report.warnings.push_back({provenance.filename().string(),
                               "no toolchain: the ELF files' architecture is not checked"});
  } else if (!elf_machine_of(arch)) {
    report.problems.push_back({provenance.filename().string(),
                               "declares no known architecture (toolchain.arch '" +
                                   printable(arch) + "'): the ELF files cannot be checked"});
  }
  if (fs::is_directory(tmp.path() / "view")) {
    check_view_elf_files(tmp.path() / "view", system, report, arch);
  }
  return report;
}

std::string format_problem_table(const std::vector<VerifyProblem>& problems) {
  size_t width = 4;
  for (const auto& p : problems) width = std::max(width, p.file.size());
  std::ostringstream out;
  out << "FILE" << std::string(width - 4 + 2, ' ') << "PROBLEM\n";
  for (const auto& p : problems) {
    out << p.file << std::string(width - p.file.size() + 2, ' ') << p.problem << "\n";
  }
  return out.str();
}

}  // namespace sf
