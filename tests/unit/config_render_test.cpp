#include "config/config_render.hpp"

#include <gtest/gtest.h>

#include "config/config_loader.hpp"

namespace sf {
namespace {

Config default_config() {
  ConfigSources s;
  s.read_system_file = false;
  s.read_user_file = false;
  s.environment = {{"HOME", "/home/tester"}};
  return load_config(s);
}

TEST(ConfigRender, JsonHasValuesAndAnOriginForEveryLeaf) {
  Config c = default_config();
  apply_override(c, "build.jobs", "6", "--jobs");
  const auto j = config::render_config_json(c);
  EXPECT_TRUE(j["profile"].is_null());
  EXPECT_EQ(j["values"]["build"]["jobs"], 6);
  EXPECT_EQ(j["values"]["cache_dir"], "/home/tester/.slurm-factory");
  EXPECT_EQ(j["values"]["cache"]["layers"][0]["url"], "file:///home/tester/.slurm-factory/cache");
  EXPECT_EQ(j["origins"]["build.jobs"], "--jobs");
  EXPECT_EQ(j["origins"]["build.memory"], "default");
  for (const auto& [path, value] : config::flatten(j["values"])) {
    EXPECT_TRUE(j["origins"].contains(path)) << path;
  }
}

TEST(ConfigRender, SecretsAreRedactedButEnvNamesAndPathsShown) {
  Config c = default_config();
  apply_override(c, "signing.passphrase_env", "SF_GPG_PASSPHRASE", "--passphrase-env");
  apply_override(c, "signing.private_key_file", "/etc/sf/key.asc", "--signing-key-file");
  // Values that validation refuses can still reach the struct by hand; show never prints them.
  c.cache_layers.push_back({"mirror",
                            "http",
                            "https://me:hunter2@mirror.example/c",
                            false,
                            {{"password", "hunter2"}, {"token_env", "MIRROR_TOKEN"}}});
  c.backends["docker"] = {{"registry_secret", "s3cr3t"}};
  c.signing.key_id = "-----BEGIN PGP PRIVATE KEY BLOCK-----\nxx";
  const auto j = config::render_config_json(c);
  const std::string text = config::render_config_text(c);
  for (const std::string& out : {j.dump(), text}) {
    EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
    EXPECT_EQ(out.find("s3cr3t"), std::string::npos) << out;
    EXPECT_EQ(out.find("BEGIN PGP PRIVATE"), std::string::npos) << out;
    EXPECT_NE(out.find("SF_GPG_PASSPHRASE"), std::string::npos);
    EXPECT_NE(out.find("/etc/sf/key.asc"), std::string::npos);
    EXPECT_NE(out.find("MIRROR_TOKEN"), std::string::npos);
  }
  EXPECT_EQ(j["values"]["cache"]["layers"][1]["url"], "https://me:***@mirror.example/c");
  EXPECT_EQ(j["values"]["cache"]["layers"][1]["settings"]["password"], config::kRedacted);
  EXPECT_EQ(j["values"]["backends"]["docker"]["registry_secret"], config::kRedacted);
  EXPECT_EQ(j["origins"]["signing.passphrase_env"], "--passphrase-env");
}

TEST(ConfigRender, TextHasOneLinePerValueWithItsOrigin) {
  Config c = default_config();
  apply_override(c, "backend", "podman", "--backend");
  const std::string text = config::render_config_text(c);
  EXPECT_NE(text.find("backend = podman"), std::string::npos) << text;
  EXPECT_NE(text.find("# --backend\n"), std::string::npos) << text;
  EXPECT_NE(text.find("signing.key_id = \"\""), std::string::npos) << text;
  EXPECT_NE(text.find("plugins.load[0] = toolchain-ubuntu"), std::string::npos) << text;
}

TEST(ConfigRender, FlattenNamesEveryLeaf) {
  const auto leaves =
      config::flatten(nlohmann::json::parse(R"({"a": {"b": [1, {"c": 2}], "e": {}}})"));
  ASSERT_EQ(leaves.size(), 3U);
  EXPECT_EQ(leaves[0].first, "a.b[0]");
  EXPECT_EQ(leaves[1].first, "a.b[1].c");
  EXPECT_EQ(leaves[2].first, "a.e");
}

// Item 18: presigned URLs and tokens in query strings never reach `config show`.
TEST(ConfigRender, SecretsInUrlQueryStringsAreRedacted) {
  Config c = default_config();
  c.cache_layers.push_back(
      {"presigned",
       "http",
       "https://bucket.s3.example/c/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
       "AKIAEXAMPLE%2F20260101&X-Amz-Signature=deadbeefcafe&X-Amz-Security-Token=tok3n#frag",
       false,
       {{"index_url", "https://cdn.example/i.json?token=t0ps3cret&page=2"}}});
  c.toolchain_families["debian"].mirror =
      "http://deb.example/debian?password=pw1;key=k3y&suite=trixie";
  c.pipelines = {{"n", {{"notify", "https://hooks.example/x?signature=s1g&channel=ops"}}}};
  const auto j = config::render_config_json(c);
  const std::string text = config::render_config_text(c);
  for (const std::string& out : {j.dump(), text}) {
    for (const char* secret :
         {"AKIAEXAMPLE", "deadbeefcafe", "tok3n", "t0ps3cret", "pw1", "k3y", "s1g"}) {
      EXPECT_EQ(out.find(secret), std::string::npos) << secret << " in " << out;
    }
    EXPECT_NE(out.find("X-Amz-Algorithm=AWS4-HMAC-SHA256"), std::string::npos);
    EXPECT_NE(out.find("page=2"), std::string::npos);
    EXPECT_NE(out.find("channel=ops"), std::string::npos);
  }
  EXPECT_EQ(j["values"]["cache"]["layers"][1]["url"],
            "https://bucket.s3.example/c/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=***&"
            "X-Amz-Signature=***&X-Amz-Security-Token=***#frag");
  EXPECT_EQ(j["values"]["toolchain_families"]["debian"]["mirror"],
            "http://deb.example/debian?password=***;key=***&suite=trixie");
}

}  // namespace
}  // namespace sf
