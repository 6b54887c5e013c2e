#include "slurm_factory/errors.hpp"

#include <gtest/gtest.h>

namespace sf {
namespace {

TEST(Errors, RenderShowsKindContextAndRemediation) {
  ConfigurationError e("unknown key 'cahce'", {{"file", "site.yaml:3:1"}, {"key", "cahce"}},
                       "did you mean 'cache'?");
  EXPECT_EQ(e.render(),
            "configuration error: unknown key 'cahce'\n  file: site.yaml:3:1\n  key: cahce\n"
            "  what to do: did you mean 'cache'?");
  EXPECT_EQ(e.exit_code(), ExitCode::kConfiguration);
}

TEST(Errors, WithReplacesExistingKeyAndAppendsNewOnes) {
  BuildError e("configure failed");
  e.with("package", "munge").with("stage", "configure").with("package", "json-c");
  EXPECT_EQ(e.context_value("package"), "json-c");
  EXPECT_EQ(e.context_value("stage"), "configure");
  EXPECT_EQ(e.context().size(), 2U);
  EXPECT_EQ(e.context_value("absent"), "");
}

TEST(Errors, EachClassHasItsOwnExitCode) {
  EXPECT_EQ(PluginError("x").exit_code(), ExitCode::kPlugin);
  EXPECT_EQ(ContainerError("x").exit_code(), ExitCode::kContainer);
  EXPECT_EQ(SourceError("x").exit_code(), ExitCode::kSource);
  EXPECT_EQ(CacheError("x").exit_code(), ExitCode::kCache);
  EXPECT_EQ(SigningError("x").exit_code(), ExitCode::kSigning);
  EXPECT_EQ(PackagingError("x").exit_code(), ExitCode::kPackaging);
  EXPECT_EQ(NotImplementedError("x").exit_code(), ExitCode::kNotImplemented);
  EXPECT_STREQ(SourceError("x").kind(), "source error");
}

TEST(Errors, CaughtAsBaseKeepsDerivedBehaviour) {
  try {
    throw SigningError("no key", {{"key id", "ABCD"}});
  } catch (const SlurmFactoryError& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kSigning);
    EXPECT_NE(e.render().find("signing error: no key"), std::string::npos);
  }
}

}  // namespace
}  // namespace sf
