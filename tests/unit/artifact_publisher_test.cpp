// The publisher on real providers: local directory layers as targets (a provider is a provider),
// the s3 and http plugins for choosing targets, a real throwaway gpg key for the merged
// SHA256SUMS. Only what a target lacks goes up; a failing target is recorded and reported with its
// name, the object and what to do.
#include "artifact/artifact_publisher.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "../support/cache_fixture.hpp"
#include "../support/gpg_home.hpp"
#include "../support/temp_dir.hpp"
#include "artifact/artifact_checksums.hpp"
#include "cache/cache_chain.hpp"
#include "cache/cache_chain_factory.hpp"
#include "signing/gpg_signer.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace sf {
namespace {

std::string url(const fs::path& p) { return "file://" + p.string(); }

class ArtifactPublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fpr = GpgSigner::generate_key(gpg.path(), "Publisher Test <publisher@test.invalid>");
    signer = std::make_unique<GpgSigner>(GpgSignerOptions{gpg.path(), fpr, {}, {}, {}, {}});
    std::vector<std::unique_ptr<CacheProvider>> layers;
    layers.push_back(test::make_layer("local", "a", url(dir / "a")));
    layers.push_back(test::make_layer("local", "b", url(dir / "b")));
    chain = std::make_unique<CacheChain>(std::move(layers), CacheChainOptions{});
    a = chain->layer("a");
    b = chain->layer("b");
  }
  // An artifact folder: artifact, provenance, SHA256SUMS (+ .asc) as packaging writes them.
  fs::path make_artifact(const std::string& name, const std::string& payload) {
    const fs::path out = dir / "out";
    const fs::path artifact = out / (name + ".tar.zst");
    test::write_file(artifact, payload);
    test::write_file(out / (name + ".provenance.json"), "{\"artifact\": \"" + name + "\"}\n");
    write_checksums(out, {artifact, out / (name + ".provenance.json")}, signer.get());
    return artifact;
  }

  test::TempDir dir{"sf-publisher"};
  test::GpgHome gpg;
  std::string fpr;
  std::unique_ptr<GpgSigner> signer;
  std::unique_ptr<CacheChain> chain;
  CacheProvider* a = nullptr;
  CacheProvider* b = nullptr;
};

TEST_F(ArtifactPublisherTest, TargetsAreWritableNonLocalLayersWhoseProviderWrites) {
  CacheChainSetup setup;
  setup.layers = {{"local", "local", url(dir / "l"), true, nlohmann::json::object()},
                  {"mirror", "http", "http://127.0.0.1:9/c/", true, nlohmann::json::object()},
                  {"frozen", "s3", "s3://b/frozen", false, {{"endpoint", "http://127.0.0.1:9"}}},
                  {"site", "s3", "s3://b/site", true, {{"endpoint", "http://127.0.0.1:9"}}}};
  std::vector<std::unique_ptr<CacheProvider>> providers;
  for (const auto& s : setup.layers) {
    providers.push_back(test::make_layer(s.type, s.name, s.url, s.writable, s.settings));
  }
  setup.chain = std::make_unique<CacheChain>(std::move(providers), CacheChainOptions{});
  const auto targets = publish_targets(setup);
  ASSERT_EQ(targets.size(), 1U);
  EXPECT_EQ(targets[0]->name(), "site");

  setup.layers.pop_back();
  try {
    throw_no_publish_target(setup, PublishPolicy::kAll);
    FAIL() << "no throw";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("--publish all needs a writable remote cache layer"));
    EXPECT_THAT(e.what(), HasSubstr("mirror (http), frozen (s3, read-only)"));
    EXPECT_THAT(e.remediation(), HasSubstr("type: s3"));
    EXPECT_THAT(e.remediation(), HasSubstr("writable: true"));
  }
}

TEST_F(ArtifactPublisherTest, ArtifactPrefixAndFilesInUploadOrder) {
  EXPECT_EQ(artifact_publish_prefix("trixie", "24.11.5", "amd64"), "trixie/24.11.5/amd64/");
  const fs::path art = make_artifact("slurm-24.11.5-trixie-amd64-software", "tarball");
  const fs::path out = art.parent_path();
  EXPECT_THAT(artifact_publish_files(art),
              ElementsAre(art, out / "slurm-24.11.5-trixie-amd64-software.provenance.json",
                          out / "SHA256SUMS", out / "SHA256SUMS.asc"));
  test::write_file(fs::path(art.string() + ".asc"), "sig");
  fs::remove(out / "SHA256SUMS.asc");
  EXPECT_THAT(
      artifact_publish_files(art),
      ElementsAre(art, fs::path(art.string() + ".asc"),
                  out / "slurm-24.11.5-trixie-amd64-software.provenance.json", out / "SHA256SUMS"));
}

TEST_F(ArtifactPublisherTest, EntryGoesOnlyWhereItIsMissingAndIsFetchedOnce) {
  const auto key = test::sample_key("slurm");
  const auto files = test::make_entry(dir / "e", key, signer.get());
  ASSERT_TRUE(chain->put_to(*b, key, files));  // b has it already
  int asked = 0;
  std::vector<std::string> uploads;
  ArtifactPublisher p(*chain, {a, b}, dir / "scratch", signer.get(),
                      [&](const std::string& layer, const std::string& k, std::uint64_t bytes) {
                        uploads.push_back(layer + " " + k);
                        EXPECT_GT(bytes, 0U);
                      });
  p.publish_entry(key, [&]() -> Expected<CacheEntryFiles> {
    ++asked;
    return files;
  });
  EXPECT_EQ(asked, 1);
  EXPECT_THAT(uploads, ElementsAre("a " + key.base()));
  EXPECT_TRUE(*a->has(key.manifest()));
  EXPECT_TRUE(*a->has(key.signature()));
  const auto& r = p.report();
  EXPECT_THAT(r.layers[0].entries_uploaded, ElementsAre(key.base()));
  EXPECT_THAT(r.layers[1].entries_present, ElementsAre(key.base()));
  EXPECT_EQ(r.uploaded(), 1U);

  // Everything there: the source is not even asked.
  ArtifactPublisher again(*chain, {a, b}, dir / "scratch", signer.get());
  again.publish_entry(key, [&]() -> Expected<CacheEntryFiles> {
    ++asked;
    return files;
  });
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(again.report().uploaded(), 0U);
  EXPECT_FALSE(again.report().failed());
  EXPECT_NO_THROW(again.throw_if_failed(dir / "artifact"));
}

TEST_F(ArtifactPublisherTest, AFailingTargetIsReportedWithLayerObjectAndRemedy) {
  // A layer whose root is a regular file cannot take writes.
  test::write_file(dir / "blocker", "not a directory");
  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(test::make_layer("local", "broken", url(dir / "blocker" / "cache")));
  layers.push_back(test::make_layer("local", "good", url(dir / "good")));
  CacheChain c(std::move(layers), CacheChainOptions{});
  const auto key = test::sample_key("munge", "b");
  const auto files = test::make_entry(dir / "e", key, signer.get());
  ArtifactPublisher p(c, {c.layer("broken"), c.layer("good")}, dir / "scratch", signer.get());
  p.publish_entry(key, [&]() -> Expected<CacheEntryFiles> { return files; });
  EXPECT_TRUE(p.report().failed());
  EXPECT_THAT(p.report().layers[1].entries_uploaded, ElementsAre(key.base()));  // others go on
  const auto j = p.report().to_json();
  EXPECT_EQ(j[0]["failure"]["object"], key.base());
  try {
    p.throw_if_failed(dir / "out" / "slurm.tar.zst");
    FAIL() << "no throw";
  } catch (const CacheError& e) {
    EXPECT_THAT(e.what(), HasSubstr("publishing failed on 1 of 2 layer(s)"));
    EXPECT_THAT(e.what(), HasSubstr("layer 'broken'"));
    EXPECT_THAT(e.what(), HasSubstr(key.base()));
    EXPECT_THAT(e.remediation(), HasSubstr("run the same build-slurm command again"));
    bool saw_artifact = false;
    for (const auto& [k, v] : e.context()) saw_artifact |= k == "artifact";
    EXPECT_TRUE(saw_artifact);
  }

  // An entry nobody can provide: a failure too, naming it.
  const auto lost = test::sample_key("pmix", "c");
  ArtifactPublisher q(c, {c.layer("good")}, dir / "scratch", signer.get());
  q.publish_entry(lost, []() -> Expected<CacheEntryFiles> {
    return Failure::not_found("the entry is in no readable cache layer");
  });
  ASSERT_TRUE(q.report().failed());
  EXPECT_EQ(q.report().layers[0].failed_object, lost.base());
  EXPECT_THAT(q.report().layers[0].failure, HasSubstr("no readable cache layer"));
  // ... which does not stop the other entries going to that layer.
  const auto next = test::sample_key("hwloc", "d");
  const auto next_files = test::make_entry(dir / "e", next, signer.get());
  q.publish_entry(next, [&]() -> Expected<CacheEntryFiles> { return next_files; });
  EXPECT_THAT(q.report().layers[0].entries_uploaded, ElementsAre(next.base()));
}

TEST_F(ArtifactPublisherTest, ArtifactFilesGoOnceAndAnotherArtifactsSumsAreMerged) {
  const std::string pre = "trixie/24.11.5/amd64/";
  // Layer a already holds a GPU artifact of the directory, published from elsewhere.
  test::write_file(dir / "gpu" / "slurm-gpu.tar.zst", "gpu tarball");
  const auto gpu_sha = *sha256_of_file(dir / "gpu" / "slurm-gpu.tar.zst");
  test::write_file(dir / "gpu" / "SHA256SUMS", gpu_sha + "  slurm-gpu.tar.zst\n");
  ASSERT_TRUE(a->put(pre + "slurm-gpu.tar.zst", dir / "gpu" / "slurm-gpu.tar.zst"));
  ASSERT_TRUE(a->put(pre + "SHA256SUMS", dir / "gpu" / "SHA256SUMS"));

  const fs::path art = make_artifact("slurm-24.11.5-trixie-amd64-software", "cpu tarball");
  ArtifactPublisher p(*chain, {a, b}, dir / "scratch", signer.get());
  p.publish_files(pre, artifact_publish_files(art));
  EXPECT_FALSE(p.report().failed()) << p.report().to_json().dump(2);
  EXPECT_EQ(p.report().layers[0].files_uploaded.size(), 4U);
  EXPECT_EQ(p.report().layers[1].files_uploaded.size(), 4U);
  // b: our files as they are.
  ASSERT_TRUE(b->get(pre + "SHA256SUMS", dir / "b-sums"));
  EXPECT_EQ(test::read_file(dir / "b-sums"), test::read_file(art.parent_path() / "SHA256SUMS"));
  // a: both artifacts' lines, signed again by our key, and the gpu tarball untouched.
  const fs::path back = dir / "a-back";
  ASSERT_TRUE(a->get(pre + "SHA256SUMS", back / "SHA256SUMS"));
  ASSERT_TRUE(a->get(pre + "SHA256SUMS.asc", back / "SHA256SUMS.asc"));
  const std::string merged = test::read_file(back / "SHA256SUMS");
  EXPECT_THAT(merged, HasSubstr(gpu_sha + "  slurm-gpu.tar.zst\n"));
  EXPECT_THAT(merged, HasSubstr("  slurm-24.11.5-trixie-amd64-software.tar.zst\n"));
  EXPECT_THAT(merged, HasSubstr("  slurm-24.11.5-trixie-amd64-software.provenance.json\n"));
  EXPECT_EQ(std::system(("GNUPGHOME='" + gpg.path() + "' gpg --batch --quiet --verify '" +
                         (back / "SHA256SUMS.asc").string() + "' '" +
                         (back / "SHA256SUMS").string() + "' 2>/dev/null")
                            .c_str()),
            0);

  // Published again: nothing goes up anywhere.
  ArtifactPublisher again(*chain, {a, b}, dir / "scratch", signer.get());
  again.publish_files(pre, artifact_publish_files(art));
  EXPECT_EQ(again.report().uploaded(), 0U) << again.report().to_json().dump(2);
  EXPECT_EQ(again.report().layers[0].files_present.size(), 4U);
  EXPECT_EQ(again.report().layers[1].files_present.size(), 4U);

  // A changed artifact (same name, new bytes): everything goes up again.
  const fs::path art2 = make_artifact("slurm-24.11.5-trixie-amd64-software", "cpu tarball v2");
  ArtifactPublisher third(*chain, {b}, dir / "scratch", signer.get());
  third.publish_files(pre, artifact_publish_files(art2));
  EXPECT_EQ(third.report().layers[0].files_uploaded.size(), 4U);
}

}  // namespace
}  // namespace sf
