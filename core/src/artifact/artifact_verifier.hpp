// `slurm-factory verify ARTIFACT [--deep]`: the artifact's SHA256SUMS signature (SHA256SUMS.asc,
// against the trusted keys), the artifact's own signature (<artifact>.asc) when present, and the
// checksums (the artifact and its provenance.json); with deep, and only once all of these hold
// (nothing of an unsigned or tampered artifact is unpacked), the artifact is unpacked to a
// temporary folder under caps (the entry count and bytes its signed provenance.json declares, else
// max_unpacked_*) and every ELF file of view/ is checked: no absolute
// (or working-directory relative) RPATH/RUNPATH, every NEEDED library found in the view or on the
// toolchain's system-library list (read from the signed provenance.json).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "formats/archive_reader.hpp"
#include "signing/gpg_verifier.hpp"

namespace sf {

struct VerifyOptions {
  bool deep = false;
  GpgTrust trust;
  // Sonames (globs) accepted as provided by the host, added to the provenance's list.
  std::vector<std::string> system_libraries;
  // Absolute caps of the deep unpack; the provenance's "contents" lowers them to what it declares.
  std::uint64_t max_unpacked_bytes = kDefaultMaxExtractBytes;
  std::uint64_t max_unpacked_entries = kDefaultMaxExtractEntries;
};

struct VerifyProblem {
  std::string file;  // "SHA256SUMS.asc", "slurm-...tar.zst", "slurm-...tar.zst.asc", "view/..."
  std::string problem;
};

struct VerifyReport {
  std::filesystem::path artifact;
  std::string signer;  // fingerprint when the signature checked
  std::size_t elf_checked = 0;
  std::vector<VerifyProblem> problems;
  std::vector<VerifyProblem> warnings;  // not failures (e.g. NEEDED found in view but off RUNPATH)
  bool ok() const { return problems.empty(); }
};

// The provenance file beside an artifact: "<dir>/<basename>.provenance.json" for
// "<dir>/<basename>.tar.zst" (.tar.gz, .tar.xz).
std::filesystem::path provenance_path_for(const std::filesystem::path& artifact);

// Never throws for problems of the artifact (they are in the report); throws VerificationError
// only when the artifact itself is missing.
VerifyReport verify_artifact(const std::filesystem::path& artifact, const VerifyOptions& options);

// The deep check over an unpacked view (paths in the result are "view/<relative>").
// `arch` ("" = not checked): every ELF file must be of it.
void check_view_elf_files(const std::filesystem::path& view,
                          const std::vector<std::string>& system_libraries, VerifyReport& report,
                          const std::string& arch = "");

// Sonames a minimal host of any glibc distribution has, used when provenance.json names none.
const std::vector<std::string>& baseline_system_libraries();

// "FILE  PROBLEM" rows, aligned.
std::string format_problem_table(const std::vector<VerifyProblem>& problems);

}  // namespace sf
