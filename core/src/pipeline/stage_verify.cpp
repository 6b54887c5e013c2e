// 7. verify --deep: the artifact (new or found) checked against the config's trust anchor.
#include "artifact/artifact_verifier.hpp"
#include "pipeline/pipeline_run.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {

void stage_verify(PipelineRun& run) {
  PipelineResult& result = run.result;
  run.emit("verify", "start", "verify --deep " + result.artifact.filename().string());
  VerifyOptions vopt;
  vopt.deep = true;
  vopt.trust = run.trust;
  result.verify = verify_artifact(result.artifact, vopt);
  const VerifyReport& v = *result.verify;
  if (!v.ok()) {
    throw VerificationError(
        std::to_string(v.problems.size()) + " problem(s) in the new artifact:\n" +
            format_problem_table(v.problems),
        {{"stage", "verify"},
         {"artifact", result.artifact.string()},
         {"first", v.problems.front().file + ": " + v.problems.front().problem}},
        "do not install it; the problems name the files (see docs/relocation.md), fix the "
        "recipe or the release's system_libraries and rebuild");
  }
  run.emit("verify", "done",
           "ok: signed by " + v.signer + ", " + std::to_string(v.elf_checked) +
               " ELF files checked, " + std::to_string(v.warnings.size()) + " warning(s)",
           {{"signer", v.signer}, {"elf_checked", v.elf_checked}, {"warnings", v.warnings.size()}});
}

}  // namespace sf
