// The APT repository's publication logic with real signatures (gpgme, a throwaway key) over a
// store held in a folder: merging, what is already there, and every refusal of an index that no
// trusted key signed or that does not match its signed Release. The real layers (s3rver) and apt
// itself: tests/e2e/deb.sh.
#include "apt_repository.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "../support/folder_store.hpp"
#include "../support/temp_dir.hpp"
#include "../support/throwaway_signing.hpp"
#include "apt_index.hpp"
#include "ar_archive.hpp"
#include "artifact/repository_publisher.hpp"
#include "slurm_factory/archive_writer.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

void spit(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

using sf::test::FolderStore;

class AptRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signing = std::make_unique<sf::test::ThrowawaySigning>("sf-apt-repo", "apt repo test <a@b.c>");
    dir = signing->root / "work";
    fs::create_directories(dir / "layer");
    store = std::make_unique<FolderStore>(dir / "layer");
    site = std::make_unique<sf::SiteRepositorySigner>(*signing->signer, *signing->verifier);
    repo = sf::deb::make_apt_repository(nlohmann::json::object());
  }

  // A real .deb (ar with debian-binary, control.tar.gz, data.tar.gz) of `package` at `version`.
  fs::path deb(const std::string& package, const std::string& version,
               const std::string& payload = "x") {
    const fs::path d = dir / ("deb-" + package + "-" + version + "-" + payload);
    spit(d / "control/control", "Package: " + package + "\nVersion: " + version +
                                    "\nArchitecture: amd64\nMaintainer: t <t@e.org>\n"
                                    "Description: test\n");
    spit(d / "data/opt/f", payload);
    sf::ArchiveWriteOptions o;
    o.compression = sf::ArchiveCompression::kGzip;
    EXPECT_TRUE(sf::write_archive(d / "control", d / "control.tar.gz", o).has_value());
    EXPECT_TRUE(sf::write_archive(d / "data", d / "data.tar.gz", o).has_value());
    const fs::path out = d / (package + "_" + version + "_amd64.deb");
    EXPECT_EQ(sf::deb::write_ar(out,
                                {{"debian-binary", "2.0\n", {}},
                                 {"control.tar.gz", "", d / "control.tar.gz"},
                                 {"data.tar.gz", "", d / "data.tar.gz"}},
                                946684800),
              "");
    return out;
  }

  sf::RepositoryReport publish(const std::vector<fs::path>& debs) {
    sf::RepositoryInput in;
    in.packages = debs;
    in.artifact.toolchain = "trixie";
    in.artifact.arch = "amd64";
    in.scratch = dir / "scratch";
    fs::remove_all(in.scratch);
    fs::create_directories(in.scratch);
    in.now = 1700000000;
    return repo->publish(in, *store, *site);
  }

  std::vector<sf::deb::Stanza> listed() {
    auto s = sf::deb::parse_stanzas(
        sf::test::read_file(dir / "layer/dists/trixie/main/binary-amd64/Packages"));
    EXPECT_TRUE(s.has_value());
    return s.value_or(std::vector<sf::deb::Stanza>{});
  }

  std::unique_ptr<sf::test::ThrowawaySigning> signing;
  fs::path dir;
  std::unique_ptr<FolderStore> store;
  std::unique_ptr<sf::SiteRepositorySigner> site;
  std::unique_ptr<sf::SignedRepository> repo;
};

}  // namespace

TEST_F(AptRepositoryTest, AFirstPublicationWritesPoolAndSignedIndex) {
  const auto report = publish({deb("slurm-factory-slurmd", "24.11.5-1+trixie")});
  EXPECT_EQ(report.index, "dists/trixie/InRelease");
  EXPECT_EQ(report.listed, 1U);
  EXPECT_TRUE(fs::exists(dir / "layer/pool/main/s/slurm-factory-slurmd/"
                               "slurm-factory-slurmd_24.11.5-1+trixie_amd64.deb"));
  const std::string release = sf::test::read_file(dir / "layer/dists/trixie/Release");
  EXPECT_TRUE(signing->verifier->verify_detached(
      release, sf::test::read_file(dir / "layer/dists/trixie/Release.gpg")));
  const std::string inrelease = sf::test::read_file(dir / "layer/dists/trixie/InRelease");
  EXPECT_THAT(inrelease, HasSubstr("-----BEGIN PGP SIGNED MESSAGE-----"));
  EXPECT_THAT(inrelease, HasSubstr("Codename: trixie"));
  auto info = sf::deb::parse_release(release);
  ASSERT_TRUE(info.has_value());
  const auto& p = info->files.at("main/binary-amd64/Packages");
  EXPECT_EQ(p.size, fs::file_size(dir / "layer/dists/trixie/main/binary-amd64/Packages"));
  const auto stanzas = listed();
  ASSERT_EQ(stanzas.size(), 1U);
  EXPECT_EQ(stanzas[0].get("Filename"),
            "pool/main/s/slurm-factory-slurmd/"
            "slurm-factory-slurmd_24.11.5-1+trixie_amd64.deb");
  EXPECT_EQ(stanzas[0].get("Description"), "test");
}

TEST_F(AptRepositoryTest, ALaterPublicationMergesAndKeepsWhatIsThere) {
  const fs::path first = deb("slurm-factory-slurmd", "22.05.8-1+trixie");
  publish({first});
  const auto report = publish({deb("slurm-factory-slurmd", "24.11.5-1+trixie"), first});
  EXPECT_EQ(report.listed, 2U);
  ASSERT_EQ(report.present.size(), 1U);  // the same bytes under a listed name: not uploaded again
  const auto stanzas = listed();
  ASSERT_EQ(stanzas.size(), 2U);
  EXPECT_EQ(stanzas[0].get("Version"), "22.05.8-1+trixie");
  EXPECT_EQ(stanzas[1].get("Version"), "24.11.5-1+trixie");
}

TEST_F(AptRepositoryTest, OtherBytesUnderAListedNameNeedANewRevision) {
  publish({deb("slurm-factory-slurmd", "24.11.5-1+trixie", "one")});
  const int before = store->puts;
  try {
    publish({deb("slurm-factory-slurmd", "24.11.5-1+trixie", "two")});
    FAIL() << "published other bytes under a listed name";
  } catch (const sf::PackagingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("listed with other bytes"));
    EXPECT_THAT(e.remediation(), HasSubstr("packagers.deb.revision"));
  }
  EXPECT_EQ(store->puts, before);
}

TEST_F(AptRepositoryTest, ATamperedReleaseIsNeverSignedAgain) {
  publish({deb("a", "1")});
  spit(dir / "layer/dists/trixie/Release",
       sf::test::read_file(dir / "layer/dists/trixie/Release") + "Extra: injected\n");
  const int before = store->puts;
  EXPECT_THROW(publish({deb("b", "1")}), sf::VerificationError);
  EXPECT_EQ(store->puts, before);
}

TEST_F(AptRepositoryTest, AnIndexSignedByAnUntrustedKeyIsRefused) {
  publish({deb("a", "1")});
  sf::test::ThrowawaySigning other("sf-apt-other", "someone else <x@y.z>");
  const std::string release = sf::test::read_file(dir / "layer/dists/trixie/Release");
  spit(dir / "layer/dists/trixie/Release.gpg", other.signer->sign_detached(release));
  try {
    publish({deb("b", "1")});
    FAIL() << "merged with an index signed by an untrusted key";
  } catch (const sf::VerificationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not signed by a trusted key"));
  }
  fs::remove(dir / "layer/dists/trixie/Release.gpg");
  EXPECT_THROW(publish({deb("b", "1")}), sf::VerificationError);  // no signature at all
}

TEST_F(AptRepositoryTest, APackagesFileThatDoesNotMatchItsReleaseIsRefused) {
  publish({deb("a", "1")});
  const fs::path packages = dir / "layer/dists/trixie/main/binary-amd64/Packages";
  spit(packages,
       sf::test::read_file(packages) + "\nPackage: evil\nVersion: 1\nArchitecture: amd64\n");
  try {
    publish({deb("b", "1")});
    FAIL() << "merged with a Packages file its Release does not describe";
  } catch (const sf::VerificationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("does not match its signed Release"));
  }
}

TEST_F(AptRepositoryTest, ReadsTheControlFileOfADeb) {
  auto control = sf::deb::read_deb_control(deb("x", "2"));
  ASSERT_TRUE(control.has_value());
  EXPECT_THAT(*control, HasSubstr("Package: x\nVersion: 2\n"));
  spit(dir / "not.deb", "hello");
  EXPECT_FALSE(sf::deb::read_deb_control(dir / "not.deb").has_value());
}

TEST(LayerRepositoryStore, RefusesKeysThatLeaveItsPrefix) {
  // A provider is never reached for a bad key: the check comes first.
  class NoProvider : public sf::CacheProvider {
   public:
    std::string name() const override { return "none"; }
    bool writable() const override { return true; }
    sf::Expected<bool> has(const std::string&) override { return true; }
    sf::Expected<void> get(const std::string&, const fs::path&) override { return {}; }
    sf::Expected<void> put(const std::string&, const fs::path&) override { return {}; }
    sf::Expected<std::vector<sf::CacheObject>> list(const std::string&) override {
      return std::vector<sf::CacheObject>{};
    }
    sf::Expected<void> remove(const std::string&) override { return {}; }
  } provider;
  sf::LayerRepositoryStore store(provider, "apt/");
  for (const char* bad : {"../x", "a/../../x", "/etc/passwd", "a//b", "..", "a/.."}) {
    EXPECT_FALSE(store.has(bad).has_value()) << bad;
  }
  EXPECT_TRUE(store.has("dists/trixie/InRelease").has_value());
}
