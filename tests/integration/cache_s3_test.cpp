// The s3 cache provider and the chain against a real S3 server (s3rver).
#include <gtest/gtest.h>

#include "../support/cache_fixture.hpp"
#include "../support/s3rver.hpp"
#include "cache/cache_chain.hpp"
#include "signing/gpg_verifier.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

class CacheS3 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server = new test::S3rver("sf-cache"); }
  static void TearDownTestSuite() {
    delete server;
    server = nullptr;
  }
  std::unique_ptr<CacheProvider> s3(nlohmann::json extra = nlohmann::json::object(),
                                    const std::string& prefix = "builds") {
    nlohmann::json settings{
        {"endpoint", server->endpoint()}, {"region", "us-east-1"}, {"retries", 2}};
    if (extra.is_object()) settings.update(extra);
    return test::make_layer("s3", "site-s3", "s3://" + server->bucket() + "/" + prefix, true,
                            settings);
  }
  static test::S3rver* server;
  test::TempDir dir{"sf-s3"};
};
test::S3rver* CacheS3::server = nullptr;

TEST_F(CacheS3, PutHasGetListRemove) {
  auto layer = s3({}, "basic");
  test::write_file(dir / "obj", "hello s3");
  ASSERT_TRUE(layer->put("a/b/c.txt", dir / "obj"));
  auto has = layer->has("a/b/c.txt");
  ASSERT_TRUE(has) << has.error().message;
  EXPECT_TRUE(*has);
  EXPECT_FALSE(*layer->has("a/b/missing"));
  ASSERT_TRUE(layer->get("a/b/c.txt", dir / "back"));
  EXPECT_EQ(test::read_file(dir / "back"), "hello s3");
  auto listed = layer->list("a/");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1U);
  EXPECT_EQ(listed->at(0).key, "a/b/c.txt");
  EXPECT_EQ(listed->at(0).size, 8U);
  ASSERT_TRUE(layer->remove("a/b/c.txt"));
  EXPECT_FALSE(*layer->has("a/b/c.txt"));
  auto missing = layer->get("a/b/c.txt", dir / "none");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, Failure::Kind::kNotFound);
}

TEST_F(CacheS3, ListPaginates) {
  auto layer = s3({{"list_page_size", 2}}, "paged");
  test::write_file(dir / "obj", "x");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(layer->put("k/" + std::to_string(i), dir / "obj"));
  auto listed = layer->list("k/");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->size(), 5U);
}

TEST_F(CacheS3, MultipartUploadAboveThreshold) {
  auto layer = s3({{"multipart_threshold", 6 << 20}, {"part_size", 5 << 20}}, "multi");
  std::string big(13 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) % 251);
  test::write_file(dir / "big", big);
  auto put = layer->put("big.bin", dir / "big");
  ASSERT_TRUE(put) << put.error().message;
  ASSERT_TRUE(layer->get("big.bin", dir / "big.back"));
  EXPECT_EQ(*sha256_file_hex(dir / "big.back"), *sha256_file_hex(dir / "big"));
}

TEST_F(CacheS3, WrongCredentialsAreUnauthorizedAndNeverShown) {
  // (s3rver 3.7.1 checks the access key id; it was seen accepting a wrong secret for a known id.)
  ::setenv("AWS_ACCESS_KEY_ID", "NOSUCHKEYID", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-xyz", 1);
  auto layer = s3({}, "creds");
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  test::write_file(dir / "obj", "x");
  auto r = layer->put("x", dir / "obj");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("not-the-secret-xyz"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("HTTP 403"), std::string::npos) << r.error().message;
}

// access_key_id_env / secret_access_key_env name the variables the credentials come from:
// with AWS_ACCESS_KEY_ID holding a key s3rver does not know, the layer still works with the
// S3RVER key held in the site's own variables (it used to read AWS_* whatever the settings said).
TEST_F(CacheS3, CredentialsComeFromTheVariablesTheSettingsName) {
  ::setenv("AWS_ACCESS_KEY_ID", "NOSUCHKEYID", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", 1);
  ::setenv("SF_SITE_S3_KEY_ID", "S3RVER", 1);
  ::setenv("SF_SITE_S3_SECRET", "S3RVER", 1);
  const nlohmann::json named{{"access_key_id_env", "SF_SITE_S3_KEY_ID"},
                             {"secret_access_key_env", "SF_SITE_S3_SECRET"}};
  auto layer = s3(named, "named-creds");
  test::write_file(dir / "obj", "named");
  auto put = layer->put("n/obj", dir / "obj");
  EXPECT_TRUE(put) << put.error().message;
  auto got = layer->get("n/obj", dir / "back");
  EXPECT_TRUE(got) << got.error().message;
  EXPECT_EQ(test::read_file(dir / "back"), "named");

  // A wrong key in the named variable is refused by the server, and the message points at the
  // setting, never at AWS_ACCESS_KEY_ID, and never shows the secret.
  ::setenv("SF_SITE_S3_KEY_ID", "WRONGKEYID", 1);
  ::setenv("SF_SITE_S3_SECRET", "wrong-secret-xyz", 1);
  auto wrong = s3(named, "named-creds")->put("n/obj2", dir / "obj");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, Failure::Kind::kUnauthorized) << wrong.error().message;
  EXPECT_NE(wrong.error().message.find("settings.access_key_id_env"), std::string::npos)
      << wrong.error().message;
  EXPECT_EQ(wrong.error().message.find("wrong-secret-xyz"), std::string::npos);

  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
}

// A named variable that is unset is a configuration error naming the layer and the variable; the
// layer never sends a request with an empty key id.
TEST_F(CacheS3, UnsetNamedCredentialVariableIsAConfigurationError) {
  ::unsetenv("SF_SITE_S3_UNSET_ID");
  ::setenv("SF_SITE_S3_SECRET", "S3RVER", 1);
  try {
    auto layer = s3({{"access_key_id_env", "SF_SITE_S3_UNSET_ID"},
                     {"secret_access_key_env", "SF_SITE_S3_SECRET"}},
                    "unset-creds");
    test::write_file(dir / "obj", "x");
    auto put = layer->put("u/obj", dir / "obj");
    FAIL() << "the layer was made and its put " << (put ? "succeeded" : "failed: ")
           << (put ? "" : put.error().message);
  } catch (const ConfigurationError& e) {
    EXPECT_NE(std::string(e.what()).find("'site-s3'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("SF_SITE_S3_UNSET_ID"), std::string::npos) << e.what();
    EXPECT_EQ(e.context_value("variable"), "SF_SITE_S3_UNSET_ID");
  }
}

TEST_F(CacheS3, RoundTripLocalToS3ToWipedLocalWithSignaturesVerified) {
  test::GpgHome home;
  auto fpr = GpgSigner::generate_key(home.path(), "CI <ci@example.invalid>");
  GpgSigner signer({home.path(), fpr, {}, {}, {}, {}});
  GpgVerifier verifier({home.path(), {fpr}});
  auto key = test::sample_key("slurm", "c");
  auto entry = test::make_entry(dir.path(), key, &signer, "round-trip");

  CacheChainOptions o;
  o.trust.verifier = &verifier;
  o.require_signed = true;
  o.staging_dir = dir.path();
  const std::string local_url = "file://" + (dir / "local").string();
  {
    std::vector<std::unique_ptr<CacheProvider>> layers;
    layers.push_back(test::make_layer("local", "local", local_url));
    layers.push_back(s3({}, "rt"));
    CacheChain chain(std::move(layers), o);
    EXPECT_EQ(chain.put(key, entry), (std::vector<std::string>{"local", "site-s3"}));
  }
  fs::remove_all(dir / "local");
  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(test::make_layer("local", "local", local_url));
  layers.push_back(s3({}, "rt"));
  CacheChain chain(std::move(layers), o);
  auto hit = chain.get(key, dir / "pulled");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->layer, "site-s3");
  EXPECT_TRUE(fs::exists(dir / ("local/" + key.tarball())));
  auto unpacked = unpack_cache_entry(hit->files, o.trust, dir / "view");
  ASSERT_TRUE(unpacked) << unpacked.error().message;
  EXPECT_EQ(test::read_file(dir / "view/bin/hello"), "#!/bin/sh\necho round-trip\n");
  // And the local copy is now the first hit.
  auto again = chain.get(key, dir / "pulled2");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->layer, "local");
}

}  // namespace
}  // namespace sf
