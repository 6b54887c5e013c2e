// Reproducible builds on docker: the real OpenSSL recipe (the package whose library embedded its
// build date: "built on: <clock>") built twice, cold, from two empty cache folders in the real
// trixie toolchain image, and the two entries compared file by file: identical. Also: both builds
// ran with the same SOURCE_DATE_EPOCH, the one of the source archive, recorded in the manifest.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "../support/build_image.hpp"
#include "../support/requirement.hpp"
#include "artifact/artifact_diff.hpp"
#include "build/build_executor.hpp"
#include "build/source_fetcher.hpp"
#include "cache/cache_chain.hpp"
#include "config/config.hpp"
#include "formats/archive_reader.hpp"
#include "formats/source_date_epoch.hpp"
#include "plugin_host/plugin_host.hpp"
#include "recipes/recipe_book.hpp"
#include "signing/gpg_signer.hpp"
#include "signing/gpg_verifier.hpp"
#include "slurm_factory/errors.hpp"
#include "toolchains/toolchain_catalog.hpp"
#include "toolchains/toolchain_image.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

// Sources only (keyed by sha256, verified): shared between runs of this test.
const fs::path kSourceCache = fs::path(SF_TEST_BINARY_DIR) / "reproducible-build-test-sources";

PluginHost& host() { return test::build_plugins(); }

class ReproducibleBuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip;
    const auto image = test::prepare_build_image("trixie", "", kSourceCache, skip);
    if (!skip.empty()) SF_REQUIRE_OR_SKIP(skip);
    image_ = image.tag;
    image_hash_ = image.hash;
    release_ = image.release;
    keys_ =
        std::make_unique<test::ThrowawaySigning>("sf-reproducible", "Repro <r@example.invalid>");
    root_ = keys_->root;
  }
  void TearDown() override {
    chains_.clear();
    keys_.reset();
  }

  Plan openssl_plan() {
    RecipeBook book = RecipeBook::load_directory(RecipeBook::default_directory());
    PlanRequest req;
    req.slurm_version = "3.5.7";  // the root recipe's version (configs/recipes/openssl.yaml)
    req.toolchain = release_;
    req.toolchain_image_hash = image_hash_;
    req.root = "openssl";
    return make_plan(book, req);
  }

  // One cold build: an empty cache folder (its own local layer, logs, work), the sources copied in
  // from the shared source cache.
  BuildReport cold_build(const Plan& plan, const std::string& name) {
    const fs::path cache_dir = root_ / name;
    SourceFetcher shared(kSourceCache);
    shared.fetch_all(SourceFetcher::items_for(plan));
    SourceFetcher mine(cache_dir);
    for (const auto& item : SourceFetcher::items_for(plan)) {
      fs::create_directories(mine.path_for(item).parent_path());
      fs::copy_file(shared.path_for(item), mine.path_for(item));
    }
    std::vector<std::unique_ptr<CacheProvider>> layers;
    layers.push_back(host().make_cache_provider(
        {"local", "local", "file://" + (cache_dir / "cache").string(), true, {}}));
    CacheChainOptions co;
    co.trust.verifier = keys_->verifier.get();
    chains_.push_back(std::make_unique<CacheChain>(std::move(layers), co));
    BuildExecutorOptions o;
    o.cache_dir = cache_dir;
    o.image = image_;
    o.jobs = 2;
    o.memory_bytes = 2LL << 30;
    o.signer = keys_->signer.get();
    o.keep_work = false;
    BuildExecutor ex([] { return host().make_container_backend("docker", {}); }, *chains_.back(),
                     o);
    BuildReport r = ex.run(plan);
    // The entry as the cache layer holds it (the run's copies go with its work folder).
    for (auto& p : r.packages) p.tarball = cache_dir / "cache" / p.key.tarball();
    return r;
  }

  std::string image_;
  std::string image_hash_;
  ToolchainRelease release_;
  fs::path root_;
  std::unique_ptr<test::ThrowawaySigning> keys_;
  std::vector<std::unique_ptr<CacheChain>> chains_;
};

TEST_F(ReproducibleBuildTest, TwoColdOpensslBuildsAreIdenticalFileByFile) {
  const Plan plan = openssl_plan();
  ASSERT_EQ(plan.packages.size(), 1U);
  const BuildReport first = cold_build(plan, "a");
  const BuildReport second = cold_build(plan, "b");
  ASSERT_EQ(first.built(), 1U);
  ASSERT_EQ(second.built(), 1U);
  const PackageOutcome& a = first.packages[0];
  const PackageOutcome& b = second.packages[0];

  // The build date OpenSSL compiles in is the source archive's, on both.
  auto expected_sde = source_date_epoch(
      SourceFetcher(kSourceCache).path_for(SourceFetcher::items_for(plan).front()));
  ASSERT_TRUE(expected_sde);
  ASSERT_TRUE(a.source_date_epoch.has_value());
  EXPECT_EQ(*a.source_date_epoch, *expected_sde);
  EXPECT_EQ(b.source_date_epoch, a.source_date_epoch);

  auto c = compare_archives(a.tarball, b.tarball, root_ / "compare");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_GT(c->entries, 20U);
  EXPECT_TRUE(c->same_contents()) << c->differences.size() << " file(s) differ:\n"
                                  << format_differences(*c);
  EXPECT_EQ(a.tarball_sha256, b.tarball_sha256) << "the entries' tarballs differ";
}

}  // namespace
}  // namespace sf
