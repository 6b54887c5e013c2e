#include "slurm_factory/errors.hpp"

#include <sstream>

namespace sf {

SlurmFactoryError::SlurmFactoryError(const std::string& message, ErrorContext context,
                                     std::string remediation)
    : std::runtime_error(message),
      context_(std::move(context)),
      remediation_(std::move(remediation)) {}

SlurmFactoryError::~SlurmFactoryError() = default;

const char* SlurmFactoryError::kind() const noexcept { return "error"; }
ExitCode SlurmFactoryError::exit_code() const noexcept { return ExitCode::kInternal; }

std::string SlurmFactoryError::context_value(const std::string& key) const {
  for (const auto& [k, v] : context_) {
    if (k == key) return v;
  }
  return {};
}

SlurmFactoryError& SlurmFactoryError::with(std::string key, std::string value) {
  for (auto& [k, v] : context_) {
    if (k == key) {
      v = std::move(value);
      return *this;
    }
  }
  context_.emplace_back(std::move(key), std::move(value));
  return *this;
}

SlurmFactoryError& SlurmFactoryError::hint(std::string remediation) {
  remediation_ = std::move(remediation);
  return *this;
}

std::string SlurmFactoryError::render() const {
  std::ostringstream out;
  out << kind() << ": " << what();
  for (const auto& [k, v] : context_) out << "\n  " << k << ": " << v;
  if (!remediation_.empty()) out << "\n  what to do: " << remediation_;
  return out.str();
}

#define SF_DEFINE_ERROR(Name, Kind, Code)                  \
  Name::~Name() = default;                                 \
  const char* Name::kind() const noexcept { return Kind; } \
  ExitCode Name::exit_code() const noexcept { return ExitCode::Code; }

SF_DEFINE_ERROR(UsageError, "usage error", kUsage)
SF_DEFINE_ERROR(ConfigurationError, "configuration error", kConfiguration)
SF_DEFINE_ERROR(PluginError, "plugin error", kPlugin)
SF_DEFINE_ERROR(ContainerError, "container error", kContainer)
SF_DEFINE_ERROR(SourceError, "source error", kSource)
SF_DEFINE_ERROR(BuildError, "build error", kBuild)
SF_DEFINE_ERROR(CacheError, "cache error", kCache)
SF_DEFINE_ERROR(SigningError, "signing error", kSigning)
SF_DEFINE_ERROR(PackagingError, "packaging error", kPackaging)
SF_DEFINE_ERROR(VerificationError, "verification error", kVerification)
SF_DEFINE_ERROR(NotImplementedError, "not implemented", kNotImplemented)

#undef SF_DEFINE_ERROR

}  // namespace sf
