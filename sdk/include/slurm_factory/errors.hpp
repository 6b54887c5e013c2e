// One error hierarchy for the whole tool. Every error says what went wrong (what()), where
// (context: ordered key/value pairs such as file, line, package, stage, log file) and what to do
// next (remediation). The CLI prints them without a stack trace and exits with the class's exit
// code.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sf {

// Documented exit codes (docs/cli.md). 0 is success; 1 an unexpected internal error; 2 a usage
// error.
enum class ExitCode : int {
  kSuccess = 0,
  kInternal = 1,
  kUsage = 2,
  kConfiguration = 3,
  kPlugin = 4,
  kContainer = 5,
  kSource = 6,
  kBuild = 7,
  kCache = 8,
  kSigning = 9,
  kPackaging = 10,
  kVerification = 11,
  kNotImplemented = 12,
};

using ErrorContext = std::vector<std::pair<std::string, std::string>>;

class SlurmFactoryError : public std::runtime_error {
 public:
  explicit SlurmFactoryError(const std::string& message, ErrorContext context = {},
                             std::string remediation = {});
  ~SlurmFactoryError() override;
  SlurmFactoryError(const SlurmFactoryError&) = default;
  SlurmFactoryError& operator=(const SlurmFactoryError&) = default;

  // Short class name shown to the user, e.g. "configuration error".
  virtual const char* kind() const noexcept;
  virtual ExitCode exit_code() const noexcept;

  const ErrorContext& context() const noexcept { return context_; }
  const std::string& remediation() const noexcept { return remediation_; }
  // Value of a context key, or "" when absent.
  std::string context_value(const std::string& key) const;

  // Adds context while an error travels up ("package", "json-c"). Returns *this for chaining.
  SlurmFactoryError& with(std::string key, std::string value);
  SlurmFactoryError& hint(std::string remediation);

  // The full multi-line rendering used by the CLI: "<kind>: <what>\n  key: value\n  hint: ...".
  std::string render() const;

 private:
  ErrorContext context_;
  std::string remediation_;
};

#define SF_DECLARE_ERROR(Name)                    \
  class Name : public SlurmFactoryError {         \
   public:                                        \
    using SlurmFactoryError::SlurmFactoryError;   \
    ~Name() override;                             \
    Name(const Name&) = default;                  \
    Name& operator=(const Name&) = default;       \
    const char* kind() const noexcept override;   \
    ExitCode exit_code() const noexcept override; \
  }

SF_DECLARE_ERROR(UsageError);
SF_DECLARE_ERROR(ConfigurationError);
SF_DECLARE_ERROR(PluginError);
SF_DECLARE_ERROR(ContainerError);
SF_DECLARE_ERROR(SourceError);
SF_DECLARE_ERROR(BuildError);
SF_DECLARE_ERROR(CacheError);
SF_DECLARE_ERROR(SigningError);
SF_DECLARE_ERROR(PackagingError);
SF_DECLARE_ERROR(VerificationError);
// A stage of the pipeline that does not exist yet. Never a pretend success.
SF_DECLARE_ERROR(NotImplementedError);

#undef SF_DECLARE_ERROR

}  // namespace sf
