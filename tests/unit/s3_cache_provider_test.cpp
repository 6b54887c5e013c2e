// The s3 cache provider (the real plugin) against the in-process test server playing a hostile or
// broken S3: listings that never end, bodies longer than declared, credentials named by settings.
// The same provider against a real s3rver: tests/integration/cache_s3_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>

#include "../support/cache_fixture.hpp"
#include "../support/test_http_server.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

std::string list_page(const std::string& key, bool truncated, const std::string& next) {
  std::string xml = "<?xml version=\"1.0\"?><ListBucketResult><Name>b</Name>";
  xml += "<Contents><Key>" + key + "</Key><Size>1</Size>";
  xml += "<LastModified>2024-01-02T03:04:05.000Z</LastModified></Contents>";
  xml += std::string("<IsTruncated>") + (truncated ? "true" : "false") + "</IsTruncated>";
  if (!next.empty()) xml += "<NextContinuationToken>" + next + "</NextContinuationToken>";
  return xml + "</ListBucketResult>";
}

class S3Provider : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("AWS_ACCESS_KEY_ID", "TESTID", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "TESTSECRET", 1);
    ::unsetenv("AWS_SESSION_TOKEN");
  }
  std::unique_ptr<CacheProvider> layer(const test::TestHttpServer& server,
                                       nlohmann::json extra = nlohmann::json::object()) {
    nlohmann::json settings{{"endpoint", server.url("")}, {"retries", 1}};
    settings.update(extra);
    return test::make_layer("s3", "site-s3", "s3://bucket/prefix", true, settings);
  }
  test::TempDir dir{"sf-s3-unit"};
};

// A server that hands out the same continuation token again would keep the client listing
// forever: the loop stops at the repeat with an error that says so.
TEST_F(S3Provider, ListStopsOnARepeatedContinuationToken) {
  std::atomic<int> pages{0};
  test::TestHttpServer server([&](const test::HttpRequestSeen&) {
    // (After 300 pages the server gives up, so that a client without the check ends too.)
    const bool more = ++pages < 300;
    return test::HttpReply{
        200,
        {},
        list_page("prefix/k" + std::to_string(pages.load()), more, more ? "SAME-TOKEN" : ""),
        {},
        false};
  });
  auto l = layer(server);
  auto listed = l->list("");
  ASSERT_FALSE(listed) << "a listing that repeats its token returned " << listed->size()
                       << " objects";
  EXPECT_NE(listed.error().message.find("repeats an earlier continuation token"), std::string::npos)
      << listed.error().message;
  EXPECT_EQ(server.requests(), 2);
}

// Fresh tokens forever: the loop stops after max_list_pages.
TEST_F(S3Provider, ListStopsAfterAnAbsurdNumberOfPages) {
  std::atomic<int> pages{0};
  test::TestHttpServer server([&](const test::HttpRequestSeen&) {
    const int n = ++pages;
    const bool more = n < 300;
    return test::HttpReply{
        200,
        {},
        list_page("prefix/k" + std::to_string(n), more, more ? "t" + std::to_string(n) : ""),
        {},
        false};
  });
  auto l = layer(server, {{"max_list_pages", 20}});
  auto listed = l->list("");
  ASSERT_FALSE(listed) << "an endless listing returned " << listed->size() << " objects";
  EXPECT_NE(listed.error().message.find("did not end after 20 pages"), std::string::npos)
      << listed.error().message;
  EXPECT_EQ(server.requests(), 20);
}

// A truncated page without a token is an error, not a silent end of the listing.
TEST_F(S3Provider, TruncatedPageWithoutATokenIsAnError) {
  test::TestHttpServer server([&](const test::HttpRequestSeen&) {
    return test::HttpReply{200, {}, list_page("prefix/k", true, ""), {}, false};
  });
  auto listed = layer(server)->list("");
  ASSERT_FALSE(listed);
  EXPECT_NE(listed.error().message.find("no NextContinuationToken"), std::string::npos)
      << listed.error().message;
}

// An object longer than its declared size: refused during the transfer, nothing kept.
TEST_F(S3Provider, ObjectLongerThanDeclaredIsRefusedAndNothingKept) {
  test::TestHttpServer server([&](const test::HttpRequestSeen&) {
    return test::HttpReply{200, {}, std::string(300000, 'q'), {}, false};
  });
  auto l = layer(server);
  auto r = l->get_at_most("a/b.tar.zst", dir / "out/b.tar.zst", 1000);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("more than 1000 bytes"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(dir / "out/b.tar.zst"));
  EXPECT_FALSE(fs::exists(dir / "out/b.tar.zst.part"));
  ASSERT_TRUE(l->get_at_most("a/b.tar.zst", dir / "out/b.tar.zst", 300000));
  EXPECT_EQ(fs::file_size(dir / "out/b.tar.zst"), 300000U);
}

// access_key_id_env / secret_access_key_env / session_token_env name the variables the
// credentials come from: what is signed is their content, never AWS_ACCESS_KEY_ID's.
TEST_F(S3Provider, CredentialsComeFromTheVariablesTheSettingsName) {
  ::setenv("SF_TEST_SITE_KEY_ID", "SITEKEYID", 1);
  ::setenv("SF_TEST_SITE_SECRET", "site-secret", 1);
  ::setenv("SF_TEST_SITE_TOKEN", "site-token", 1);
  test::TestHttpServer server([&](const test::HttpRequestSeen&) {
    return test::HttpReply{200, {}, "", {}, false};
  });
  auto l = layer(server, {{"access_key_id_env", "SF_TEST_SITE_KEY_ID"},
                          {"secret_access_key_env", "SF_TEST_SITE_SECRET"},
                          {"session_token_env", "SF_TEST_SITE_TOKEN"}});
  ASSERT_TRUE(l->has("x"));
  const auto seen = server.seen().at(0);
  EXPECT_NE(seen.headers.at("authorization").find("Credential=SITEKEYID/"), std::string::npos)
      << seen.headers.at("authorization");
  EXPECT_EQ(seen.headers.at("x-amz-security-token"), "site-token");
}

// A named variable that is unset: a configuration error naming the layer and the variable,
// before anything is sent.
TEST_F(S3Provider, UnsetNamedVariableIsAConfigurationErrorAndNothingIsSent) {
  ::unsetenv("SF_TEST_UNSET_KEY_ID");
  ::setenv("SF_TEST_SITE_SECRET", "site-secret", 1);
  test::TestHttpServer server([&](const test::HttpRequestSeen&) {
    return test::HttpReply{200, {}, "", {}, false};
  });
  try {
    auto l = layer(server, {{"access_key_id_env", "SF_TEST_UNSET_KEY_ID"},
                            {"secret_access_key_env", "SF_TEST_SITE_SECRET"}});
    (void)l->has("x");
    FAIL() << "an unset access_key_id_env variable was accepted";
  } catch (const ConfigurationError& e) {
    EXPECT_NE(std::string(e.what()).find("site-s3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("SF_TEST_UNSET_KEY_ID"), std::string::npos) << e.what();
    EXPECT_EQ(e.context_value("setting"), "access_key_id_env");
    EXPECT_EQ(std::string(e.what()).find("site-secret"), std::string::npos);
  }
  EXPECT_EQ(server.requests(), 0);
}

// The s3, http and local types declare their settings keys, so the core can refuse unknown ones.
TEST_F(S3Provider, CacheTypesDeclareTheirSettings) {
  test::TestHttpServer server([&](const test::HttpRequestSeen&) {
    return test::HttpReply{200, {}, "", {}, false};
  });
  (void)layer(server);  // loads the plugins
  const auto* s3 = test::cache_plugins().cache_provider_info("s3");
  ASSERT_NE(s3, nullptr);
  for (const char* k : {"endpoint", "region", "access_key_id_env", "secret_access_key_env",
                        "session_token_env", "max_list_pages"}) {
    EXPECT_NE(std::find(s3->settings.begin(), s3->settings.end(), k), s3->settings.end()) << k;
  }
  const auto* local = test::cache_plugins().cache_provider_info("local");
  ASSERT_NE(local, nullptr);
  EXPECT_TRUE(local->settings.empty());
  ASSERT_NE(test::cache_plugins().cache_provider_info("http"), nullptr);
}

}  // namespace
}  // namespace sf
