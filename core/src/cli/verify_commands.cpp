#include <nlohmann/json.hpp>
#include <ostream>

#include "app/app.hpp"
#include "artifact/artifact_verifier.hpp"
#include "cache/cache_chain_factory.hpp"
#include "cli/command_groups.hpp"
#include "slurm_factory/errors.hpp"

namespace po = boost::program_options;

namespace sf::cli {

namespace {

nlohmann::json problems_json(const std::vector<VerifyProblem>& problems) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : problems) out.push_back({{"file", p.file}, {"problem", p.problem}});
  return out;
}

// "1048576", "512K", "64M", "16G", "1T" (binary units, optional "iB"/"B") -> bytes.
std::uint64_t parse_byte_count(const std::string& text, const char* option) {
  std::size_t used = 0;
  unsigned long long value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  if (unit.size() == 3 && unit.ends_with("iB")) {
    unit.resize(1);
  } else if (unit.size() == 2 && unit.back() == 'B') {
    unit.resize(1);
  }
  int shift = -1;
  if (unit.empty()) shift = 0;
  if (unit == "K" || unit == "k") shift = 10;
  if (unit == "M" || unit == "m") shift = 20;
  if (unit == "G" || unit == "g") shift = 30;
  if (unit == "T" || unit == "t") shift = 40;
  if (used == 0 || text[0] == '-' || shift < 0 || value == 0 ||
      (shift > 0 && value > (~0ULL >> shift))) {
    throw UsageError(std::string("invalid ") + option + " '" + text + "'", {},
                     "give a positive size: bytes, or with K, M, G or T (e.g. 64G)");
  }
  return static_cast<std::uint64_t>(value) << shift;
}

int run_verify(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory verify ARTIFACT [--deep] [options]",
      "Checks an artifact: the signature of the SHA256SUMS beside it (SHA256SUMS.asc, against the "
      "trust anchor of the signing config: signing.keyring, else <cache_dir>/gnupg, with its own "
      "and its imported keys and signing.trusted_fingerprints; or --keyring/--trusted-key) and "
      "the sha256 of the "
      "artifact and its provenance.json. With --deep it also unpacks the artifact to a temporary "
      "folder and walks every ELF file of view/: no absolute RPATH or RUNPATH, and every NEEDED "
      "library found in the view or on the toolchain's system-library list. --deep unpacks nothing "
      "unless the signature and checksums verify, and unpacks under caps: the entries and bytes "
      "the signed provenance.json declares, at most --max-unpacked-size and "
      "--max-unpacked-files. Prints a table of problems; exits 11 (verification error) when "
      "there is any.",
      "  slurm-factory verify out/slurm-24.11.5-bookworm-amd64-software.tar.zst\n"
      "  slurm-factory verify --deep --keyring ~/.gnupg-sf ARTIFACT\n"
      "  slurm-factory verify --deep --json ARTIFACT\n"};
  po::options_description opts("Options");
  std::string artifact;
  std::string keyring;
  std::vector<std::string> trusted;
  std::vector<std::string> system_libraries;
  std::string max_size;
  std::uint64_t max_files = 0;
  opts.add_options()("artifact", po::value(&artifact), "the artifact (.tar.zst, .tar.gz, .tar.xz)")(
      "deep", po::bool_switch(), "unpack and check every ELF file")(
      "keyring", po::value(&keyring),
      "use this keyring (its secret keys and the keys recorded by `cache keys import` are "
      "trusted)")("trusted-key", po::value(&trusted)->composing(),
                  "accept only this fingerprint (repeatable)")(
      "system-library", po::value(&system_libraries)->composing(),
      "also accept this soname glob as provided by the host (repeatable)")(
      "max-unpacked-size", po::value(&max_size),
      "--deep: cap on the bytes unpacked (default 16G; K, M, G, T suffixes)")(
      "max-unpacked-files", po::value(&max_files),
      "--deep: cap on the entries unpacked (default 1000000)");
  po::positional_options_description pos;
  pos.add("artifact", 1);
  auto vm = parse_command(inv, spec, opts, pos);
  if (!vm) return 0;
  if (artifact.empty()) {
    throw UsageError("verify needs the artifact to check", {},
                     "slurm-factory verify ARTIFACT (see --help)");
  }

  VerifyOptions options;
  options.deep = (*vm)["deep"].as<bool>();
  options.system_libraries = system_libraries;
  if (!max_size.empty())
    options.max_unpacked_bytes = parse_byte_count(max_size, "--max-unpacked-size");
  if (max_files > 0) options.max_unpacked_entries = max_files;
  if (keyring.empty()) {
    // The config's one trust anchor: signing.keyring, else <cache_dir>/gnupg; never ~/.gnupg.
    App app(inv.global);
    options.trust = config_trust(app.config());
  } else {
    options.trust.gnupg_home = keyring;
  }
  if (!trusted.empty()) {
    options.trust.trusted_fingerprints = trusted;
    options.trust.only_listed = true;  // --trusted-key: exactly these
  }

  const VerifyReport report = verify_artifact(artifact, options);
  if (inv.global.json) {
    inv.out << nlohmann::json{{"artifact", artifact},
                              {"ok", report.ok()},
                              {"signer", report.signer},
                              {"deep", options.deep},
                              {"elf_checked", report.elf_checked},
                              {"problems", problems_json(report.problems)},
                              {"warnings", problems_json(report.warnings)}}
                   .dump()
            << "\n";
  } else {
    if (!report.warnings.empty() && !inv.global.quiet) {
      inv.err << "warnings:\n" << format_problem_table(report.warnings);
    }
    if (report.ok()) {
      inv.out << "ok: " << artifact << " (signed by " << report.signer << ")";
      if (options.deep) inv.out << ", " << report.elf_checked << " ELF files checked";
      inv.out << "\n";
    } else {
      inv.out << format_problem_table(report.problems);
    }
  }
  if (!report.ok()) {
    throw VerificationError(
        std::to_string(report.problems.size()) + " problem(s) in the artifact",
        {{"artifact", artifact},
         {"first", report.problems.front().file + ": " + report.problems.front().problem}},
        "rebuild or fetch the artifact again; do not install it as it is");
  }
  return 0;
}

}  // namespace

void add_verify_commands(CommandTable& table) {
  table.add({{"verify"},
             "check an artifact's signature, checksums and (--deep) every ELF file",
             run_verify});
}

}  // namespace sf::cli
