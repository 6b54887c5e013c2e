// The source cache trusts bytes, not existence: a cached source whose bytes changed on disk is
// fetched again from its mirror (or refused when no mirror has it), never handed to a build.
#include "build/source_fetcher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "../support/temp_dir.hpp"
#include "../support/test_http_server.hpp"
#include "recipes/package_hash.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

FetchOptions quick() {
  FetchOptions o;
  o.retry.max_attempts = 1;
  o.timeouts.connect = std::chrono::milliseconds(1000);
  return o;
}

TEST(SourceFetcher, ACachedSourceWhoseBytesChangedIsFetchedAgain) {
  const std::string data(50000, 's');
  std::atomic<int> served{0};
  test::TestHttpServer server([&](const test::HttpRequestSeen& r) -> test::HttpReply {
    if (r.target != "/demo-1.0.tar.gz") return {404, {}, ""};
    ++served;
    return {200, {}, data};
  });
  test::TempDir cache("sf-fetch-rehash");
  SourceItem item{
      "demo", "1.0", sha256_hex(data), "demo-1.0.tar.gz", {server.url("/demo-1.0.tar.gz")}};
  SourceFetcher fetcher(cache.path(), quick());
  auto first = fetcher.fetch(item);
  EXPECT_FALSE(first.was_cached);
  EXPECT_EQ(served, 1);
  EXPECT_TRUE(fetcher.fetch(item).was_cached);  // intact: not fetched again
  EXPECT_EQ(served, 1);

  // The cached bytes change on disk (same size, one byte).
  std::string evil = data;
  evil[100] = 'X';
  test::write_file(fetcher.path_for(item), evil);
  auto again = fetcher.fetch(item);
  EXPECT_FALSE(again.was_cached);
  EXPECT_EQ(served, 2);
  EXPECT_EQ(test::read_file(fetcher.path_for(item)), data);
}

TEST(SourceFetcher, AChangedCachedSourceWithNoMirrorIsRefusedNotUsed) {
  const std::string data(20000, 'q');
  test::TempDir cache("sf-fetch-refuse");
  SourceItem item{
      "demo", "2.0", sha256_hex(data), "demo-2.0.tar.gz", {"http://127.0.0.1:9/demo-2.0.tar.gz"}};
  SourceFetcher fetcher(cache.path(), quick());
  test::write_file(fetcher.path_for(item), data + "appended");
  EXPECT_THROW(fetcher.fetch(item), SourceError);
  EXPECT_FALSE(fs::exists(fetcher.path_for(item)));
  // A link in place of the file is not followed either.
  fs::create_directories(fetcher.path_for(item).parent_path());
  test::write_file(cache / "elsewhere", data);
  fs::create_symlink(cache / "elsewhere", fetcher.path_for(item));
  EXPECT_THROW(fetcher.fetch(item), SourceError);
  EXPECT_EQ(test::read_file(cache / "elsewhere"), data);
}

}  // namespace
}  // namespace sf
