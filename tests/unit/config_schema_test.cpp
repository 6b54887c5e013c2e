#include "config/config_schema.hpp"

#include <gtest/gtest.h>

#include "config/config_validate.hpp"
#include "slurm_factory/errors.hpp"

namespace sf::config {
namespace {

// Validates `yaml` as a whole config file named site.yaml; returns the error (or fails the test).
ConfigurationError error_for(const std::string& yaml) {
  try {
    validate(YAML::Load(yaml), root_schema(), "", LayerSource::from_file("site.yaml"));
  } catch (const ConfigurationError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << yaml;
  return ConfigurationError("none");
}

void accepts(const std::string& yaml) {
  EXPECT_NO_THROW(validate(YAML::Load(yaml), root_schema(), "", LayerSource::from_file("ok.yaml")))
      << yaml;
}

TEST(ConfigSchema, UnknownKeyInListItemHasLineColumnKeyPathAndSuggestion) {
  const auto e = error_for(
      "cache:\n"
      "  layers:\n"
      "    - name: local\n"
      "      type: local\n"
      "      url: file:///tmp/c\n"
      "    - name: site\n"
      "      tyep: s3\n"
      "      url: s3://bucket/x\n");
  EXPECT_EQ(e.context_value("file"), "site.yaml:7:7");
  EXPECT_EQ(e.context_value("key"), "cache.layers[1].tyep");
  EXPECT_NE(std::string(e.what()).find("unknown key 'tyep'"), std::string::npos) << e.what();
  EXPECT_NE(e.remediation().find("did you mean 'type'?"), std::string::npos) << e.remediation();
  EXPECT_EQ(e.exit_code(), ExitCode::kConfiguration);
}

TEST(ConfigSchema, UnknownTopLevelKey) {
  const auto e = error_for("build:\n  jobs: 2\ncahce:\n  layers: []\n");
  EXPECT_EQ(e.context_value("file"), "site.yaml:3:1");
  EXPECT_EQ(e.context_value("key"), "cahce");
  EXPECT_NE(e.remediation().find("did you mean 'cache'?"), std::string::npos);
}

TEST(ConfigSchema, WrongTypes) {
  auto e = error_for("build:\n  jobs: many\n");
  EXPECT_EQ(e.context_value("file"), "site.yaml:2:9");
  EXPECT_EQ(e.context_value("key"), "build.jobs");
  EXPECT_NE(std::string(e.what()).find("a whole number >= 0"), std::string::npos) << e.what();

  e = error_for("build:\n  jobs: -1\n");
  EXPECT_EQ(e.context_value("key"), "build.jobs");

  e = error_for("build:\n  network: sometimes\n");
  EXPECT_EQ(e.context_value("key"), "build.network");

  e = error_for("build:\n  memory: lots\n");
  EXPECT_EQ(e.context_value("key"), "build.memory");

  e = error_for("build:\n  ccache: sometimes\n");
  EXPECT_EQ(e.context_value("key"), "build.ccache");
  EXPECT_EQ(e.context_value("file"), "site.yaml:2:11");
  EXPECT_NE(std::string(e.what()).find("true or false"), std::string::npos) << e.what();

  e = error_for("build:\n  ccache_max_size: plenty\n");
  EXPECT_EQ(e.context_value("key"), "build.ccache_max_size");
  EXPECT_NE(std::string(e.what()).find("a size"), std::string::npos) << e.what();

  e = error_for("plugins:\n  load: toolchain-debian\n");
  EXPECT_EQ(e.context_value("key"), "plugins.load");
  EXPECT_NE(std::string(e.what()).find("must be a list"), std::string::npos);

  e = error_for("build: [1, 2]\n");
  EXPECT_EQ(e.context_value("key"), "build");
  EXPECT_EQ(e.context_value("file"), "site.yaml:1:8");

  e = error_for("debian_mirror: deb.debian.org\n");
  EXPECT_EQ(e.context_value("key"), "debian_mirror");

  e = error_for("toolchain_families:\n  debian: {mirror: deb.debian.org}\n");
  EXPECT_EQ(e.context_value("key"), "toolchain_families.debian.mirror");
  EXPECT_EQ(e.context_value("file"), "site.yaml:2:20");

  e = error_for("toolchain_families:\n  debian: {mirorr: http://m/debian}\n");
  EXPECT_EQ(e.context_value("key"), "toolchain_families.debian.mirorr");
  EXPECT_NE(e.remediation().find("did you mean 'mirror'?"), std::string::npos);

  e = error_for("signing:\n  trusted_fingerprints: [ABCD]\n");
  EXPECT_EQ(e.context_value("key"), "signing.trusted_fingerprints[0]");
}

TEST(ConfigSchema, MissingRequiredValues) {
  auto e = error_for("cache:\n  layers:\n    - name: a\n      url: file:///x\n");
  EXPECT_EQ(e.context_value("key"), "cache.layers[0].type");
  EXPECT_EQ(e.context_value("file"), "site.yaml:3:7");
  EXPECT_NE(std::string(e.what()).find("missing required key 'type'"), std::string::npos);

  e = error_for("cache:\n  layers:\n    - {name: a, type: local, url: ''}\n");
  EXPECT_EQ(e.context_value("key"), "cache.layers[0].url");

  e = error_for("toolchains:\n  mysite:\n    family: [ubuntu]\n");
  EXPECT_EQ(e.context_value("key"), "toolchains.mysite.family");
}

TEST(ConfigSchema, LiteralSecretsAreRefusedWithTheReason) {
  auto e = error_for("signing:\n  key_id: ABC\n  passphrase: hunter2\n");
  EXPECT_EQ(e.context_value("key"), "signing.passphrase");
  EXPECT_EQ(e.context_value("file"), "site.yaml:3:3");
  EXPECT_NE(e.remediation().find("passphrase_env"), std::string::npos) << e.remediation();
  EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << "secret echoed";

  e = error_for("signing:\n  passphrase_env: \"correct horse battery\"\n");
  EXPECT_EQ(e.context_value("key"), "signing.passphrase_env");
  EXPECT_NE(std::string(e.what()).find("NAME of an environment variable"), std::string::npos);
  EXPECT_EQ(std::string(e.what()).find("correct horse"), std::string::npos) << "secret echoed";

  e = error_for(
      "signing:\n  private_key_file: |\n    -----BEGIN PGP PRIVATE KEY BLOCK-----\n    abc\n");
  EXPECT_EQ(e.context_value("key"), "signing.private_key_file");

  e = error_for(
      "cache:\n  layers:\n    - name: s3\n      type: s3\n      url: s3://b/p\n"
      "      settings:\n        secret_access_key: abc\n");
  EXPECT_EQ(e.context_value("key"), "cache.layers[0].settings.secret_access_key");

  e = error_for(
      "cache:\n  layers:\n    - name: h\n      type: http\n"
      "      url: https://me:pw@mirror.example/c\n");
  EXPECT_EQ(e.context_value("key"), "cache.layers[0].url");
  EXPECT_EQ(std::string(e.what()).find("pw@"), std::string::npos);

  e = error_for("backends:\n  docker:\n    registry_password: x\n");
  EXPECT_EQ(e.context_value("key"), "backends.docker.registry_password");
}

TEST(ConfigSchema, AcceptsWhatTheDocsShow) {
  accepts(
      "cache_dir: /var/cache/slurm-factory\n"
      "plugins: {search_paths: [/opt/sf/plugins], load: [toolchain-debian]}\n"
      "backend: podman\n"
      "backends: {podman: {socket: unix:///run/podman/podman.sock}}\n"
      "cache:\n  layers:\n"
      "    - {name: local, type: local, url: 'file://${cache_dir}/cache'}\n"
      "    - name: site\n      type: s3\n      url: s3://bucket/prefix\n      writable: false\n"
      "      settings: {region: us-east-1, access_key_id_env: AWS_ACCESS_KEY_ID,"
      " secret_access_key_env: AWS_SECRET_ACCESS_KEY}\n"
      "signing:\n  key_id: 0xABCDEF\n  passphrase_env: SF_GPG_PASSPHRASE\n"
      "  passphrase_file: ~/.gnupg/sf.pass\n"
      "  trusted_fingerprints: ['0123 4567 89AB CDEF 0123  4567 89AB CDEF 0123 4567']\n"
      "build: {jobs: 8, cpus: 1.5, memory: 16g, shm: 512m, pids: 8192, network: false,"
      " ccache: true, ccache_max_size: 10g}\n"
      "toolchains:\n  mysite:\n    family: ubuntu\n    base_image: registry.site/ubuntu:24.04\n"
      "toolchain_families: {debian: {mirror: http://mirror.site/debian}}\n"
      "pipelines: {nightly: {matrix: {slurm_versions: [24.11, 25.11], toolchains: [noble]}}}\n"
      "profiles:\n  ci: {backend: docker, build: {jobs: 2}}\n  laptop: {build: {cpus: 2}}\n");
  accepts("");
  accepts("build:\n");  // an empty section is "not set here"
}

TEST(ConfigSchema, ProfilesAreValidatedEvenWhenNotSelected) {
  const auto e = error_for("profiles:\n  ci:\n    biuld: {jobs: 2}\n");
  EXPECT_EQ(e.context_value("key"), "profiles.ci.biuld");
  EXPECT_EQ(e.context_value("file"), "site.yaml:3:5");
  EXPECT_NE(e.remediation().find("did you mean 'build'?"), std::string::npos);
}

TEST(ConfigSchema, SchemaAtResolvesKeyPaths) {
  ASSERT_NE(schema_at("build.jobs"), nullptr);
  EXPECT_EQ(schema_at("build.jobs")->type, ValueType::kInt);
  EXPECT_EQ(schema_at("cache.layers")->type, ValueType::kSequence);
  EXPECT_EQ(schema_at("cache.layers[0].url")->type, ValueType::kUrl);
  EXPECT_EQ(schema_at("toolchains.mysite")->type, ValueType::kMap);
  EXPECT_EQ(schema_at("profiles.ci.build.jobs")->type, ValueType::kInt);
  EXPECT_EQ(schema_at("build.jbos"), nullptr);
  EXPECT_EQ(schema_at("cache_dir.x"), nullptr);
}

}  // namespace
}  // namespace sf::config
