// The oci packager's push (oci_repository.hpp, oci_registry.hpp) against a real registry:
// Debian's docker-registry, started by the fixture on 127.0.0.1. A layout made with the packager's
// own documents is published: the registry serves the manifest with the digest computed here, the
// signed record in the layer verifies; a second publication uploads nothing; a second image in
// another repository gets the shared layer; a layout with one changed byte is refused before
// anything reaches the registry. Whole images from a real build, pulled by docker and podman and
// run as a cluster: tests/e2e/oci.sh.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "../support/folder_store.hpp"
#include "../support/requirement.hpp"
#include "../support/temp_dir.hpp"
#include "../support/throwaway_signing.hpp"
#include "artifact/repository_publisher.hpp"
#include "oci_image.hpp"
#include "oci_repository.hpp"
#include "slurm_factory/archive_writer.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/http_client.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

int free_port() {
  for (int port = 20000 + (::getpid() % 20000);; ++port) {
    const std::string probe = "http://127.0.0.1:" + std::to_string(port) + "/";
    sf::http::ClientOptions o;
    o.retry.max_attempts = 1;
    o.timeouts.connect = std::chrono::milliseconds(300);
    sf::http::HttpClient c(o);
    if (!c.head(probe)) return port;  // nothing answers there
  }
}

class OciRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signing = std::make_unique<sf::test::ThrowawaySigning>("sf-oci-reg", "oci test <o@c.i>");
    dir = signing->root / "work";
    fs::create_directories(dir / "layer");
    if (::access("/usr/bin/docker-registry", X_OK) != 0) {
      SF_REQUIRE_OR_SKIP("docker-registry is not installed (apt-get install docker-registry)");
    }
    port = free_port();
    host = "127.0.0.1:" + std::to_string(port);
    sf::test::write_file(dir / "registry.yml",
                         "version: 0.1\nlog: {level: warn}\nstorage: {filesystem: "
                         "{rootdirectory: " +
                             (dir / "registry").string() + "}}\nhttp: {addr: " + host + "}\n");
    pid = ::fork();
    if (pid == 0) {
      const std::string log = (dir / "registry.log").string();
      std::freopen(log.c_str(), "w", stdout);
      std::freopen(log.c_str(), "a", stderr);
      ::execl("/usr/bin/docker-registry", "docker-registry", "serve",
              (dir / "registry.yml").c_str(), nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 100 && !answers(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(answers()) << "docker-registry did not start on " << host;
    store = std::make_unique<sf::test::FolderStore>(dir / "layer");
    site = std::make_unique<sf::SiteRepositorySigner>(*signing->signer, *signing->verifier);
  }
  void TearDown() override {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
  }

  bool answers() {
    sf::http::ClientOptions o;
    o.retry.max_attempts = 1;
    sf::http::HttpClient c(o);
    auto r = c.get("http://" + host + "/v2/");
    return r.has_value();
  }

  // A layout holding one image per entry of `images` (role -> the content of its own layer), all
  // sharing one base layer; the index names them slurm-factory-<role>:1.0-test-amd64.
  fs::path layout(const std::map<std::string, std::string>& images, const std::string& name) {
    const fs::path root = dir / ("layout-" + name);
    const fs::path blobs = root / "blobs/sha256";
    fs::create_directories(blobs);
    auto layer = [&](const std::string& file, const std::string& content) {
      const fs::path tree = dir / ("tree-" + name + "-" + file);
      sf::test::write_file(tree / "opt/slurm" / file, content);
      sf::ArchiveWriteOptions o;
      o.compression = sf::ArchiveCompression::kNone;
      EXPECT_TRUE(sf::write_archive(tree, tree.string() + ".tar", o).has_value());
      auto gz = sf::gzip_file(tree.string() + ".tar", tree.string() + ".tar.gz");
      EXPECT_TRUE(gz.has_value());
      fs::copy_file(tree.string() + ".tar.gz", blobs / gz->sha256,
                    fs::copy_options::overwrite_existing);
      return sf::oci::Layer{{sf::oci::kLayerGzipType, "sha256:" + gz->sha256, gz->size, {}},
                            "sha256:" + gz->source_sha256,
                            file};
    };
    const auto base = layer("base", "the shared base layer");
    std::vector<sf::oci::Descriptor> manifests;
    for (const auto& [role, content] : images) {
      sf::oci::ImageSpec image;
      image.role = role;
      image.arch = "amd64";
      image.created = "2026-12-06T00:00:00Z";
      image.cmd = {role};
      image.labels = {{"org.slurm-factory.role", role}};
      image.layers = {base, layer(role, content)};
      const std::string config = sf::oci::config_json(image);
      const auto c = sf::oci::describe_json(sf::oci::kConfigType, config);
      sf::test::write_file(blobs / c.digest.substr(7), config);
      const std::string manifest = sf::oci::manifest_json(c, image);
      auto m = sf::oci::describe_json(sf::oci::kManifestType, manifest);
      sf::test::write_file(blobs / m.digest.substr(7), manifest);
      m.annotations["org.opencontainers.image.ref.name"] =
          "slurm-factory-" + role + ":1.0-test-amd64";
      manifests.push_back(m);
    }
    sf::test::write_file(root / "oci-layout", sf::oci::layout_json());
    sf::test::write_file(root / "index.json", sf::oci::index_json(manifests));
    sf::ArchiveWriteOptions o;
    o.compression = sf::ArchiveCompression::kNone;
    fs::path out = dir / (name + "-images.oci.tar");
    EXPECT_TRUE(sf::write_archive(root, out, o).has_value());
    return out;
  }

  sf::RepositoryReport publish(const fs::path& file, const std::string& ns) {
    auto repo = sf::oci::make_oci_repository({{"registry", host + "/" + ns}});
    sf::RepositoryInput in;
    in.packages = {file};
    in.artifact.slurm_version = "1.0";
    in.artifact.toolchain = "test";
    in.artifact.arch = "amd64";
    in.scratch = dir / "scratch";
    fs::remove_all(in.scratch);
    fs::create_directories(in.scratch);
    return repo->publish(in, *store, *site);
  }

  std::string get(const std::string& path, const sf::http::Headers& headers = {}) {
    sf::http::HttpClient c;
    auto r = c.get("http://" + host + path, headers);
    EXPECT_TRUE(r.has_value()) << path << ": " << (r ? "" : r.error().message);
    return r ? r->body : "";
  }

  std::unique_ptr<sf::test::ThrowawaySigning> signing;
  fs::path dir;
  int port = 0;
  std::string host;
  pid_t pid = -1;
  std::unique_ptr<sf::test::FolderStore> store;
  std::unique_ptr<sf::SiteRepositorySigner> site;
};

TEST_F(OciRegistryTest, PushesImagesTheRegistryServesWithOurDigests) {
  const auto file = layout({{"slurmctld", "ctld"}, {"login", "login"}}, "a");
  const auto report = publish(file, "hpc");
  EXPECT_EQ(report.listed, 2U);
  EXPECT_EQ(report.index, "test/amd64/1.0-test-amd64.json");

  // The record, signed; its digests are what the registry serves.
  std::ifstream rec(dir / "layer" / report.index);
  const std::string record((std::istreambuf_iterator<char>(rec)), {});
  std::ifstream sig(dir / "layer" / (report.index + ".asc"));
  const std::string signature((std::istreambuf_iterator<char>(sig)), {});
  EXPECT_TRUE(site->trusted(record, signature));
  const auto j = nlohmann::json::parse(record);
  ASSERT_EQ(j["images"].size(), 2U);
  for (const auto& image : j["images"]) {
    const std::string role = image["role"];
    const std::string served = get("/v2/hpc/slurm-factory-" + role + "/manifests/1.0-test-amd64",
                                   {{"Accept", sf::oci::kManifestType}});
    EXPECT_EQ("sha256:" + sf::sha256_hex(served), image["digest"]) << role;
    EXPECT_EQ(image["reference"], host + "/hpc/slurm-factory-" + role + ":1.0-test-amd64");
  }
  const auto catalog = nlohmann::json::parse(get("/v2/_catalog"));
  EXPECT_EQ(catalog["repositories"],
            nlohmann::json::array({"hpc/slurm-factory-login", "hpc/slurm-factory-slurmctld"}));

  // Again: every blob is there already.
  const auto again = publish(file, "hpc");
  EXPECT_EQ(again.listed, 2U);
  EXPECT_EQ(again.present.size(), 6U);  // (base, own layer, config) x 2
}

TEST_F(OciRegistryTest, ATamperedLayoutIsRefusedBeforeAnyPush) {
  const auto good = layout({{"slurmd", "slurmd"}}, "b");
  // The same layout with one byte of its own layer's blob changed (the name keeps the old digest).
  const fs::path root = dir / "layout-b";
  const auto index = nlohmann::json::parse(std::ifstream(root / "index.json"));
  const std::string mdigest = index["manifests"][0]["digest"];
  const auto manifest =
      nlohmann::json::parse(std::ifstream(root / "blobs/sha256" / mdigest.substr(7)));
  const std::string ldigest = manifest["layers"][1]["digest"];
  {
    std::fstream f(root / "blobs/sha256" / ldigest.substr(7),
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x42');
  }
  sf::ArchiveWriteOptions o;
  o.compression = sf::ArchiveCompression::kNone;
  const fs::path bad = dir / "tampered-images.oci.tar";
  ASSERT_TRUE(sf::write_archive(root, bad, o).has_value());
  try {
    publish(bad, "tampered");
    FAIL() << "a tampered layout was published";
  } catch (const sf::VerificationError& e) {
    EXPECT_THAT(e.what(), HasSubstr(ldigest));
  }
  const auto catalog = nlohmann::json::parse(get("/v2/_catalog"));
  EXPECT_TRUE(catalog["repositories"].empty()) << catalog.dump();
  EXPECT_FALSE(fs::exists(dir / "layer/test"));
  (void)good;
}

TEST_F(OciRegistryTest, NoRegistrySetIsAConfigurationError) {
  const auto file = layout({{"login", "x"}}, "c");
  auto repo = sf::oci::make_oci_repository(nlohmann::json::object());
  sf::RepositoryInput in;
  in.packages = {file};
  in.scratch = dir / "scratch";
  fs::create_directories(in.scratch);
  try {
    repo->publish(in, *store, *site);
    FAIL() << "published with no registry";
  } catch (const sf::ConfigurationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("packagers.oci.registry"));
  }
}

}  // namespace
