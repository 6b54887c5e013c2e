// The rpm repository's publication logic with real signatures (a throwaway key) and the real
// createrepo_c, over a store held in a folder: a first publication signs repomd.xml, and an
// index no trusted key signed, or whose files do not match it, is refused before anything is
// written. The real layer and dnf: tests/e2e/rpm.sh.
#include "rpm_repository.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../support/folder_store.hpp"
#include "../support/temp_dir.hpp"
#include "../support/throwaway_signing.hpp"
#include "artifact/repository_publisher.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

class RpmRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signing = std::make_unique<sf::test::ThrowawaySigning>("sf-rpm-repo", "rpm repo <r@e.org>");
    fs::create_directories(signing->root / "layer");
    store = std::make_unique<sf::test::FolderStore>(signing->root / "layer");
    site = std::make_unique<sf::SiteRepositorySigner>(*signing->signer, *signing->verifier);
    repo = sf::rpm::make_rpm_repository(nlohmann::json::object());
  }
  sf::RepositoryReport publish() {
    sf::RepositoryInput in;
    in.artifact.toolchain = "rockylinux9";
    in.artifact.arch = "amd64";
    in.scratch = signing->root / "scratch";
    fs::remove_all(in.scratch);
    fs::create_directories(in.scratch);
    return repo->publish(in, *store, *site);
  }
  fs::path repodata() const { return signing->root / "layer/rockylinux9/x86_64/repodata"; }

  std::unique_ptr<sf::test::ThrowawaySigning> signing;
  std::unique_ptr<sf::test::FolderStore> store;
  std::unique_ptr<sf::SiteRepositorySigner> site;
  std::unique_ptr<sf::SignedRepository> repo;
};

}  // namespace

TEST_F(RpmRepositoryTest, AFirstPublicationSignsRepomd) {
  const auto report = publish();
  EXPECT_EQ(report.index, "rockylinux9/x86_64/repodata/repomd.xml");
  const std::string repomd = sf::test::read_file(repodata() / "repomd.xml");
  EXPECT_TRUE(signing->verifier->verify_detached(
      repomd, sf::test::read_file(repodata() / "repomd.xml.asc")));
  auto entries = sf::rpm::parse_repomd(repomd);
  ASSERT_TRUE(entries.has_value());
  EXPECT_GE(entries->size(), 3U);  // primary, filelists, other
  for (const auto& e : *entries) EXPECT_TRUE(fs::exists(repodata().parent_path() / e.href));
  // Published again over itself: the signed metadata is trusted and merged.
  EXPECT_NO_THROW(publish());
}

TEST_F(RpmRepositoryTest, RefusesMetadataNoTrustedKeySigned) {
  publish();
  sf::test::ThrowawaySigning other("sf-rpm-other", "someone else <x@y.z>");
  std::ofstream(repodata() / "repomd.xml.asc")
      << other.signer->sign_detached(sf::test::read_file(repodata() / "repomd.xml"));
  const int before = store->puts;
  try {
    publish();
    FAIL() << "merged with metadata signed by an untrusted key";
  } catch (const sf::VerificationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not signed by a trusted key"));
  }
  EXPECT_EQ(store->puts, before);
}

TEST_F(RpmRepositoryTest, RefusesMetadataFilesThatDoNotMatchRepomd) {
  publish();
  auto entries = sf::rpm::parse_repomd(sf::test::read_file(repodata() / "repomd.xml"));
  ASSERT_TRUE(entries.has_value());
  std::ofstream(repodata().parent_path() / entries->front().href, std::ios::app) << "x";
  EXPECT_THROW(publish(), sf::VerificationError);
}

TEST(RepomdParser, TakesOnlyPlainRepodataFiles) {
  const std::string sha(64, 'a');
  auto data = [&sha](const std::string& href) {
    return "<data type=\"primary\"><checksum type=\"sha256\">" + sha +
           "</checksum><location href=\"" + href + "\"/><size>12</size></data>";
  };
  auto ok = sf::rpm::parse_repomd("<repomd>" + data("repodata/p.xml.gz") + "</repomd>");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->front().size, 12U);
  for (const std::string bad :
       {"repodata/../../etc/passwd", "/etc/passwd", "Packages/x.rpm", "repodata/a b"}) {
    EXPECT_FALSE(sf::rpm::parse_repomd("<repomd>" + data(bad) + "</repomd>").has_value()) << bad;
  }
  EXPECT_FALSE(sf::rpm::parse_repomd("<repomd></repomd>").has_value());
  EXPECT_FALSE(sf::rpm::parse_repomd("not xml").has_value());
}
