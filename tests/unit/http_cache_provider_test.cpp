// The http cache provider (the real plugin) against the in-process test server: a large published
// cache's index.json is read whole, and an object longer than declared is refused.
#include <gtest/gtest.h>

#include "../support/cache_fixture.hpp"
#include "../support/test_http_server.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

// 6,000 entries: an index.json of about 2 MiB, beyond the 1 MiB that used to be kept of a body
// (the listing was then reported as malformed).
TEST(HttpCacheProvider, ListsAnIndexOfSixThousandEntries) {
  nlohmann::json index;
  index["entries"] = nlohmann::json::array();
  for (int i = 0; i < 6000; ++i) {
    const std::string hash = std::string(12, "0123456789abcdef"[i % 16]);
    index["entries"].push_back(
        {{"key", "debian-bookworm/x86_64/package-number-" + std::to_string(i) + "-1.0.0-" + hash},
         {"name", "package-number-" + std::to_string(i)},
         {"version", "1.0.0"},
         {"hash", std::string(64, 'a')},
         {"tarball_sha256", std::string(64, 'b')},
         {"size", 1000 + i},
         {"signed", true},
         {"mtime", 1700000000}});
  }
  const std::string body = index.dump();
  ASSERT_GT(body.size(), std::size_t{1} << 20);
  test::TestHttpServer server([&](const test::HttpRequestSeen& r) {
    if (r.target == "/index.json")
      return test::HttpReply{200, {}, R"({"directories": ["debian-bookworm/x86_64"]})", {}, false};
    if (r.target == "/debian-bookworm/x86_64/index.json")
      return test::HttpReply{200, {}, body, {}, false};
    return test::HttpReply{404, {}, "", {}, false};
  });
  auto layer = test::make_layer("http", "cdn", server.url("/"), false, {{"retries", 1}});
  auto listed = layer->list("");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->size(), 6000U * 3);  // tarball, manifest, signature of each
  std::size_t tarballs = 0;
  for (const auto& o : *listed) tarballs += o.size > 0 ? 1 : 0;
  EXPECT_EQ(tarballs, 6000U);
}

// An object longer than its declared size: refused during the transfer, nothing kept.
TEST(HttpCacheProvider, ObjectLongerThanDeclaredIsRefusedAndNothingKept) {
  test::TestHttpServer server([](const test::HttpRequestSeen&) {
    return test::HttpReply{200, {}, std::string(250000, 'w'), {}, false};
  });
  test::TempDir dir("sf-http-cache");
  auto layer = test::make_layer("http", "cdn", server.url("/"), false, {{"retries", 1}});
  auto r = layer->get_at_most("a/b.manifest.json", dir / "m.json", 4096);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("more than 4096 bytes"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(dir / "m.json"));
  EXPECT_FALSE(fs::exists(dir / "m.json.part"));
  EXPECT_EQ(server.requests(), 1);
}

}  // namespace
}  // namespace sf
