// The source fetcher against a local HTTP server started by the test (mirror fallback, checksum
// mismatch, resume after a cut connection, parallel fetch, unreachable mirrors) and one real
// download of a small source from the Debian mirror.
#include "build/source_fetcher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <sstream>

#include "../support/temp_dir.hpp"
#include "../support/test_http_server.hpp"
#include "recipes/package_hash.hpp"
#include "recipes/recipe_book.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

std::string payload(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + static_cast<char>(i * 7 % 61));
  return s;
}

FetchOptions fast_options() {
  FetchOptions o;
  o.retry.max_attempts = 3;
  o.retry.initial_backoff = std::chrono::milliseconds(20);
  o.retry.max_backoff = std::chrono::milliseconds(50);
  o.timeouts.connect = std::chrono::milliseconds(2000);
  o.timeouts.low_speed_time = std::chrono::seconds(5);
  return o;
}

// Serves `files` by path, honouring "Range: bytes=N-".
test::HttpReply serve(const std::map<std::string, std::string>& files,
                      const test::HttpRequestSeen& req) {
  auto it = files.find(req.target);
  if (it == files.end()) return {404, {}, "not found"};
  const std::string& body = it->second;
  auto range = req.headers.find("range");
  if (range != req.headers.end()) {
    size_t from = std::stoul(range->second.substr(6));
    return {
        206,
        {{"Content-Range", "bytes " + std::to_string(from) + "-" + std::to_string(body.size() - 1) +
                               "/" + std::to_string(body.size())}},
        body.substr(from)};
  }
  return {200, {}, body};
}

size_t files_under(const fs::path& dir) {
  size_t n = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() != ".lock") ++n;
  }
  return n;
}

TEST(SourceFetcher, FallsBackToTheNextMirrorAndCachesBySha256) {
  const std::string data = payload(100000, 'a');
  test::TestHttpServer server([&](const test::HttpRequestSeen& r) {
    return serve({{"/good/demo-1.0.tar.gz", data}}, r);
  });
  test::TempDir cache("sf-fetch");
  SourceItem item{"demo",
                  "1.0",
                  sha256_hex(data),
                  "demo-1.0.tar.gz",
                  {server.url("/missing/demo-1.0.tar.gz"), server.url("/good/demo-1.0.tar.gz")},
                  ""};
  std::ostringstream progress;
  FetchOptions opts = fast_options();
  opts.progress = &progress;
  opts.progress_interval = std::chrono::milliseconds(0);
  SourceFetcher fetcher(cache.path(), opts);
  EXPECT_FALSE(fetcher.has(item));
  auto result = fetcher.fetch(item);
  EXPECT_FALSE(result.was_cached);
  EXPECT_EQ(result.url, server.url("/good/demo-1.0.tar.gz"));
  EXPECT_EQ(result.path, cache.path() / "sourcecache" / item.sha256 / "demo-1.0.tar.gz");
  EXPECT_EQ(test::read_file(result.path), data);
  EXPECT_NE(progress.str().find("fetched demo 1.0"), std::string::npos) << progress.str();
  // A second fetch is served by the cache: no request at all.
  int before = server.requests();
  auto again = fetcher.fetch(item);
  EXPECT_TRUE(again.was_cached);
  EXPECT_EQ(server.requests(), before);
}

TEST(SourceFetcher, ChecksumMismatchNamesUrlExpectedActualAndCachesNothing) {
  const std::string served = payload(5000, 'x');
  const std::string expected = sha256_hex("the bytes the recipe pins");
  test::TestHttpServer server([&](const test::HttpRequestSeen& r) {
    return serve({{"/evil.tar.gz", served}}, r);
  });
  test::TempDir cache("sf-fetch");
  SourceItem item{"demo",
                  "1.0",
                  expected,
                  "demo.tar.gz",
                  {server.url("/evil.tar.gz")},
                  "/site/recipes/demo.yaml"};
  SourceFetcher fetcher(cache.path(), fast_options());
  try {
    (void)fetcher.fetch(item);
    FAIL() << "expected a SourceError";
  } catch (const SourceError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(server.url("/evil.tar.gz")), std::string::npos) << what;
    EXPECT_NE(what.find(expected), std::string::npos) << what;
    EXPECT_NE(what.find(sha256_hex(served)), std::string::npos) << what;
    EXPECT_EQ(e.context_value("actual sha256"), sha256_hex(served));
    EXPECT_EQ(e.exit_code(), ExitCode::kSource);
    // What to fix is the recipe the pins came from (a site's own recipe folder), by its path.
    EXPECT_NE(e.render().find("/site/recipes/demo.yaml"), std::string::npos) << e.render();
  }
  EXPECT_FALSE(fetcher.has(item));
  EXPECT_EQ(files_under(cache.path() / "sourcecache"), 0U);
}

TEST(SourceFetcher, MismatchOnOneMirrorFallsBackToAGoodOne) {
  const std::string good = payload(3000, 'g');
  test::TestHttpServer server([&](const test::HttpRequestSeen& r) {
    return serve({{"/bad", payload(3000, 'b')}, {"/good", good}}, r);
  });
  test::TempDir cache("sf-fetch");
  SourceItem item{
      "demo", "1.0", sha256_hex(good), "demo.tar.gz", {server.url("/bad"), server.url("/good")},
      ""};
  auto result = SourceFetcher(cache.path(), fast_options()).fetch(item);
  EXPECT_EQ(result.url, server.url("/good"));
  EXPECT_EQ(test::read_file(result.path), good);
}

TEST(SourceFetcher, ResumesAfterACutConnection) {
  const std::string data = payload(200000, 'r');
  std::atomic<int> full_requests{0};
  std::string range_seen;
  std::mutex mu;
  test::TestHttpServer server([&](const test::HttpRequestSeen& r) -> test::HttpReply {
    if (r.headers.count("range") != 0U) {
      std::lock_guard lock(mu);
      range_seen = r.headers.at("range");
      return serve({{"/big.tar.gz", data}}, r);
    }
    ++full_requests;
    // Announce the full length, send 60%, then close: the client sees a cut connection.
    return {200,
            {{"Content-Length", std::to_string(data.size())}},
            data.substr(0, data.size() * 6 / 10)};
  });
  test::TempDir cache("sf-fetch");
  SourceItem item{"big", "1.0", sha256_hex(data), "big.tar.gz", {server.url("/big.tar.gz")}, ""};
  auto result = SourceFetcher(cache.path(), fast_options()).fetch(item);
  EXPECT_EQ(test::read_file(result.path), data);
  EXPECT_EQ(full_requests.load(), 1);
  EXPECT_EQ(range_seen, "bytes=" + std::to_string(data.size() * 6 / 10) + "-");
}

TEST(SourceFetcher, ResumesAPartialFileLeftByAnEarlierRun) {
  const std::string data = payload(50000, 'p');
  test::TestHttpServer server([&](const test::HttpRequestSeen& r) {
    return serve({{"/p.tar.gz", data}}, r);
  });
  test::TempDir cache("sf-fetch");
  SourceItem item{"p", "1.0", sha256_hex(data), "p.tar.gz", {server.url("/p.tar.gz")}, ""};
  auto partial = cache.path() / "sourcecache" / ".partial";
  test::write_file(partial / (item.sha256 + ".part"), data.substr(0, 12345));
  test::write_file(partial / (item.sha256 + ".url"), server.url("/p.tar.gz") + "\n");
  auto result = SourceFetcher(cache.path(), fast_options()).fetch(item);
  EXPECT_EQ(test::read_file(result.path), data);
  ASSERT_EQ(server.seen().size(), 1U);
  EXPECT_EQ(server.seen()[0].headers.at("range"), "bytes=12345-");
}

TEST(SourceFetcher, FetchesInParallel) {
  std::map<std::string, std::string> files;
  std::vector<SourceItem> items;
  std::atomic<int> in_flight{0}, max_in_flight{0};
  for (int i = 0; i < 6; ++i) {
    std::string body = payload(20000 + static_cast<size_t>(i), static_cast<char>('A' + i));
    std::string path = "/f" + std::to_string(i) + ".tar.gz";
    files[path] = body;
    items.push_back({"pkg" + std::to_string(i), "1", sha256_hex(body), "f.tar.gz", {}, ""});
  }
  test::TestHttpServer server([&](const test::HttpRequestSeen& r) {
    int now = ++in_flight;
    int prev = max_in_flight.load();
    while (now > prev && !max_in_flight.compare_exchange_weak(prev, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    --in_flight;
    return serve(files, r);
  });
  for (int i = 0; i < 6; ++i)
    items[static_cast<size_t>(i)].mirrors = {server.url("/f" + std::to_string(i) + ".tar.gz")};
  items.push_back(items[0]);  // a duplicate sha256 is fetched once
  items.back().name = "dup";
  test::TempDir cache("sf-fetch");
  auto start = std::chrono::steady_clock::now();
  auto results = SourceFetcher(cache.path(), fast_options()).fetch_all(items);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(results.size(), 7U);
  for (size_t i = 0; i < 6; ++i)
    EXPECT_EQ(test::read_file(results[i].path), files["/f" + std::to_string(i) + ".tar.gz"]);
  EXPECT_EQ(results[6].item.name, "dup");
  EXPECT_EQ(results[6].path, results[0].path);
  EXPECT_EQ(server.requests(), 6);
  EXPECT_EQ(max_in_flight.load(), 4);  // the default parallelism
  EXPECT_LT(took, std::chrono::milliseconds(6 * 300));
}

TEST(SourceFetcher, UnreachableVersionListsEveryUrlTried) {
  test::TestHttpServer server([](const test::HttpRequestSeen&) {
    return test::HttpReply{404, {}, "no"};
  });
  test::TempDir cache("sf-fetch");
  SourceItem item{"slurm",
                  "26.05.0",
                  std::string(64, 'a'),
                  "slurm-26.05.0.tar.gz",
                  {"http://127.0.0.1:1/slurm-26-05-0-1.tar.gz", server.url("/slurm.tar.gz")},
                  ""};
  FetchOptions opts = fast_options();
  opts.retry.max_attempts = 1;
  std::vector<SourceItem> items{item};
  try {
    (void)SourceFetcher(cache.path(), opts).fetch_all(items);
    FAIL() << "expected a SourceError";
  } catch (const SourceError& e) {
    std::string all = e.render();
    EXPECT_NE(all.find("cannot fetch slurm 26.05.0"), std::string::npos) << all;
    EXPECT_NE(all.find("http://127.0.0.1:1/slurm-26-05-0-1.tar.gz"), std::string::npos) << all;
    EXPECT_NE(all.find(server.url("/slurm.tar.gz")), std::string::npos) << all;
    EXPECT_NE(all.find("404"), std::string::npos) << all;
  }
  EXPECT_EQ(files_under(cache.path() / "sourcecache"), 0U);
}

// A real download from the Debian mirror, checked against the recipe's pin (which is
// ../shared/facts/sources.yaml's sha256 for libyaml 0.2.5).
TEST(SourceFetcher, RealFetchFromTheDebianMirror) {
  auto book = RecipeBook::load_directory(fs::path(SF_TEST_SOURCE_DIR) / "configs" / "recipes");
  const auto& v = book.get("libyaml").versions.at(0);
  ASSERT_EQ(v.sha256, "fa240dbf262be053f3898006d502d514936c818e422afdcf33921c63bed9bf2e");
  SourceItem item{"libyaml", v.version, v.sha256, v.filename, {v.mirrors.back()}, ""};
  ASSERT_NE(item.mirrors[0].find("deb.debian.org"), std::string::npos);
  test::TempDir cache("sf-fetch");
  auto result = SourceFetcher(cache.path(), fast_options()).fetch(item);
  EXPECT_EQ(fs::file_size(result.path), 85055U);
  EXPECT_EQ(*sha256_file_hex(result.path), v.sha256);
}

}  // namespace
}  // namespace sf
