#include "artifact/artifact_location.hpp"

#include <spdlog/spdlog.h>

#include <fstream>

#include "artifact/artifact_verifier.hpp"
#include "slurm_factory/log.hpp"

namespace fs = std::filesystem;

namespace sf {

fs::path artifact_output_dir(const fs::path& output_root, const Plan& plan) {
  return output_root / plan.request.toolchain.name / plan.slurm_version /
         plan.root().toolchain.arch;
}

nlohmann::json artifact_view_policy(const Plan& plan, bool with_dev) {
  nlohmann::json programs = nlohmann::json::object();
  for (const auto& p : plan.packages) {
    if (p.origin == Origin::kSource && p.runtime) programs[p.name] = p.public_programs;
  }
  return {{"with_dev", with_dev}, {"public_programs", programs}};
}

std::optional<fs::path> find_valid_artifact(const fs::path& dir, const std::string& basename,
                                            const std::string& root_hash, const GpgTrust& trust,
                                            const nlohmann::json& view_policy) {
  for (const char* ext : {".tar.zst", ".tar.gz", ".tar.xz"}) {
    const fs::path artifact = dir / (basename + ext);
    std::error_code ec;
    if (!fs::is_regular_file(artifact, ec)) continue;
    nlohmann::json prov;
    try {
      std::ifstream in(provenance_path_for(artifact));
      prov = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      log().debug("{}: unreadable provenance ({}), rebuilding", artifact.string(), e.what());
      continue;
    }
    const auto* hash = prov.contains("plan") && prov["plan"].is_object() &&
                               prov["plan"].contains("root_hash") &&
                               prov["plan"]["root_hash"].is_string()
                           ? prov["plan"]["root_hash"].get_ptr<const std::string*>()
                           : nullptr;
    if (hash == nullptr || *hash != root_hash) {
      log().info("{} was built from another plan; building this one", artifact.string());
      continue;
    }
    // What the view keeps (--with-dev, the recipes' public_programs) is no package input: a recipe
    // that changed its public programs makes another artifact from the same entries.
    const nlohmann::json* policy =
        prov.contains("plan") && prov["plan"].is_object() && prov["plan"].contains("view_policy")
            ? &prov["plan"]["view_policy"]
            : nullptr;
    if (policy == nullptr || *policy != view_policy) {
      log().info("{} kept other files in its view; building it again", artifact.string());
      continue;
    }
    // Templates and assembly belong to the builder: another version makes another artifact.
    const std::string builder = prov.contains("builder") && prov["builder"].is_object()
                                    ? prov["builder"].value("version", std::string())
                                    : std::string();
    if (builder != SF_VERSION) {
      log().info("{} was made by slurm-factory {} (this is {}); building it again",
                 artifact.string(), builder.empty() ? "?" : builder, SF_VERSION);
      continue;
    }
    VerifyOptions vo;
    vo.trust = trust;
    const VerifyReport report = verify_artifact(artifact, vo);
    if (!report.ok() || report.signer.empty()) {
      log().warn("{} is there but does not verify ({}); building it again", artifact.string(),
                 report.problems.empty()
                     ? std::string("unsigned")
                     : report.problems.front().file + ": " + report.problems.front().problem);
      continue;
    }
    return artifact;
  }
  return std::nullopt;
}

}  // namespace sf
