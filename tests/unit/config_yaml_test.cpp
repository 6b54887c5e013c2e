#include "config/config_yaml.hpp"

#include <gtest/gtest.h>

namespace sf::config {
namespace {

TEST(ConfigYaml, LocationIsOneBasedLineAndColumn) {
  const YAML::Node n = YAML::Load("a:\n  b: 3\n");
  EXPECT_EQ(location("f.yaml", n["a"]["b"].Mark()), "f.yaml:2:6");
  EXPECT_EQ(location("f.yaml", YAML::Mark::null_mark()), "f.yaml");
}

TEST(ConfigYaml, LayerSourceOriginUsesLabelOrMarks) {
  const YAML::Node n = YAML::Load("x: 1\n");
  EXPECT_EQ(LayerSource::from_file("/etc/c.yaml").origin(n["x"]), "/etc/c.yaml:1:4");
  LayerSource env = LayerSource::fixed("env X", "environment variable X");
  EXPECT_EQ(env.origin(n["x"]), "env X");
  EXPECT_EQ(env.where(n["x"].Mark()), "environment variable X");
  LayerSource prof = LayerSource::from_file("p.yaml");
  prof.suffix = " (profile ci)";
  EXPECT_EQ(prof.origin(n["x"]), "p.yaml:1:4 (profile ci)");
}

TEST(ConfigYaml, KeyPaths) {
  EXPECT_EQ(join_key("", "cache"), "cache");
  EXPECT_EQ(join_index(join_key("cache", "layers"), 1), "cache.layers[1]");
  EXPECT_EQ(join_key("cache.layers[1]", "type"), "cache.layers[1].type");
}

TEST(ConfigYaml, YamlToJsonKeepsQuotedStringsAndTypesPlainScalars) {
  const YAML::Node n =
      YAML::Load("i: 42\nf: 1.5\nb: true\nq: \"42\"\ns: hello\nn: ~\nl: [1, two]\nm: {k: v}\n");
  const auto j = yaml_to_json(n);
  EXPECT_EQ(j["i"], 42);
  EXPECT_DOUBLE_EQ(j["f"].get<double>(), 1.5);
  EXPECT_EQ(j["b"], true);
  EXPECT_EQ(j["q"], "42");
  EXPECT_EQ(j["s"], "hello");
  EXPECT_TRUE(j["n"].is_null());
  EXPECT_EQ(j["l"], nlohmann::json::parse(R"([1, "two"])"));
  EXPECT_EQ(j["m"]["k"], "v");
}

TEST(ConfigYaml, DidYouMeanFindsTyposAndTranspositions) {
  const std::vector<std::string> keys{"name", "type", "url", "writable", "settings"};
  EXPECT_EQ(did_you_mean("tyep", keys), "type");
  EXPECT_EQ(did_you_mean("writeable", keys), "writable");
  EXPECT_EQ(did_you_mean("URL", keys), "url");
  EXPECT_EQ(did_you_mean("completely-different", keys), "");
  EXPECT_EQ(did_you_mean("x", {}), "");
}

TEST(ConfigYaml, SecretKeysAndWhereTheyAreKept) {
  EXPECT_TRUE(is_secret_key("passphrase"));
  EXPECT_TRUE(is_secret_key("secret_access_key"));
  EXPECT_TRUE(is_secret_key("Password"));
  EXPECT_TRUE(is_secret_key("token"));
  EXPECT_FALSE(is_secret_key("passphrase_env"));
  EXPECT_FALSE(is_secret_key("secret_access_key_file"));
  EXPECT_FALSE(is_secret_key("region"));
  EXPECT_FALSE(is_secret_key("key_id"));
}

TEST(ConfigYaml, UrlPasswordsAreFoundAndRedacted) {
  EXPECT_TRUE(url_has_password("https://user:hunter2@cache.example/x"));
  EXPECT_FALSE(url_has_password("https://user@cache.example/x"));
  EXPECT_FALSE(url_has_password("https://cache.example/a@b"));
  EXPECT_FALSE(url_has_password("file:///root/.slurm-factory/cache"));
  EXPECT_EQ(redact_url("https://user:hunter2@cache.example/x"), "https://user:***@cache.example/x");
  EXPECT_EQ(redact_url("https://cache.example/x"), "https://cache.example/x");
}

TEST(ConfigYaml, PrivateKeyMaterialIsRecognised) {
  EXPECT_TRUE(looks_like_private_key("-----BEGIN PGP PRIVATE KEY BLOCK-----\nxyz"));
  EXPECT_TRUE(looks_like_private_key("-----BEGIN OPENSSH PRIVATE KEY-----"));
  EXPECT_FALSE(looks_like_private_key("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
  EXPECT_FALSE(looks_like_private_key("/home/me/key.asc"));
}

}  // namespace
}  // namespace sf::config
