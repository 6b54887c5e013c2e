// One place that says what a value may look like before it reaches a path or a script: a Slurm
// version, a toolchain name, a GPU flavour, an arch, a package (recipe) name and version, a
// pipeline name and a single path component. Every entry point (build-slurm, package, run,
// pipeline configs, recipes, toolchain release YAML) checks its values here, so that
// `--slurm-version '24.11.5$(touch /tmp/x)'` or `../../x` is refused before anything is written.
//
// input_problem() says why a value is refused (empty when it is valid); callers that know a
// file:line turn it into a ConfigurationError there, the CLI uses check_input() (UsageError).
#pragma once

#include <string>
#include <string_view>

namespace sf {

// The GPU flavours a build may ask for (--gpu), in the order they are listed.
inline constexpr const char* kGpuFlavours[] = {"cuda", "rocm", "oneapi"};

enum class InputKind {
  kSlurmVersion,    // 24.11, 24.11.5, 24.11.0-rc1, 24.11.5-2
  kToolchainName,   // noble, rockylinux9, bookworm (lower case, digits, . _ -)
  kGpuFlavour,      // cuda, rocm, oneapi
  kArch,            // amd64, arm64, x86_64, ppc64le
  kPackageName,     // a recipe name: slurm, json-c, libjwt (lower case, digits, . _ + -)
  kPackageVersion,  // a recipe version: 1.10.0, 2.1.13-stable, 0.5.16
  kName,            // a pipeline (or other) name used as a folder name: nightly, ci_2
  kPathComponent,   // one file or folder name: no '/', not '.' or '..', no NUL, no leading '-'
};

// What a value of `kind` looks like, for error messages ("digits and dots, e.g. 24.11.5").
std::string describe(InputKind kind);

// Empty when `value` is a valid `kind`; otherwise why it is not ("contains '/'").
std::string input_problem(InputKind kind, std::string_view value);

// `value` when valid; otherwise throws UsageError "invalid <what> '<value>': <problem>" naming
// what is expected. `what` names the input ("--slurm-version").
const std::string& check_input(InputKind kind, const std::string& value, const std::string& what);

// The value as it can be shown in a message or log: control characters and bytes that are not
// printable ASCII as \xHH, at most 80 characters.
std::string printable(std::string_view value);

}  // namespace sf
