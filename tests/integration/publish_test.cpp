// build-slurm --publish against a real s3rver, with the stand-in "slurm" recipe of
// build_pipeline_test (plain make, built by the real trixie build image on docker in seconds):
// --publish cache puts the plan's entries on the s3 layer even when the artifact exists already
// (the entries come from the local layer), --publish all puts the artifact, provenance.json,
// SHA256SUMS and SHA256SUMS.asc under trixie/24.11.5/amd64/, a second publish uploads nothing,
// a read-only http layer is never written, cache list / verify / index on the s3 layer still see
// exactly the entries, and cache index --html lists the published artifact. Without a writable
// remote layer --publish is a usage error before any work; a layer that fails is a cache error
// naming it and the entry, and the artifact stays.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "../support/cache_fixture.hpp"
#include "../support/pipeline_fixture.hpp"
#include "../support/s3rver.hpp"
#include "../support/test_http_server.hpp"
#include "cli/cli.hpp"
#include "signing/gpg_signer.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/http_client.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

namespace sf {
namespace {

// The publication of layer `name` in a result event.
nlohmann::json published(const std::vector<nlohmann::json>& v, const std::string& name) {
  if (v.empty() || !v.back().contains("published")) return nullptr;
  for (const auto& l : v.back()["published"]) {
    if (l["layer"] == name) return l;
  }
  return nullptr;
}

class PublishTest : public test::PipelineFixture {
 protected:
  PublishTest() : PipelineFixture("sf-publish", "Publish Test <publish@test.invalid>") {}
  static void SetUpTestSuite() { server = new test::S3rver("sf-publish"); }
  static void TearDownTestSuite() {
    delete server;
    server = nullptr;
  }

  void SetUp() override {
    PipelineFixture::SetUp();
    if (IsSkipped()) return;
    ASSERT_TRUE(add_stand_in_slurm(
        "a stand-in for Slurm",
        "#include <stdio.h>\nint main(void) { printf(\"fake sinfo\\n\"); return 0; }\n"));
    // Each test its own prefix in the bucket.
    prefix_ = std::string("t-") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  // layers: YAML list items (already indented) after the local layer.
  void configure(const std::string& more_layers) {
    write_config("toolchain-debian, backend-docker, cache-local, cache-s3, cache-http",
                 "cache:\n  layers:\n"
                 "    - {name: local, type: local, url: \"file://" +
                     (cache_ / "cache").string() + "\", writable: true}\n" + more_layers);
  }
  std::string s3_layer(const std::string& endpoint) const {
    return "    - name: site-s3\n      type: s3\n      url: s3://" + server->bucket() + "/" +
           prefix_ + "\n      writable: true\n      settings: {endpoint: \"" + endpoint +
           "\", region: us-east-1, retries: 0}\n";
  }

  int run(std::vector<std::string> args) { return build_slurm(std::move(args)); }
  std::unique_ptr<CacheProvider> s3() const {
    return test::make_layer("s3", "site-s3", "s3://" + server->bucket() + "/" + prefix_, true,
                            {{"endpoint", server->endpoint()}, {"region", "us-east-1"}});
  }
  std::set<std::string> s3_keys() const {
    std::set<std::string> keys;
    auto listed = s3()->list("");
    if (listed) {
      for (const auto& o : *listed) keys.insert(o.key);
    }
    return keys;
  }

  static test::S3rver* server;
  std::string prefix_;
};
test::S3rver* PublishTest::server = nullptr;

TEST_F(PublishTest, CacheThenAllThenNothingNewAndNeverTheReadOnlyLayer) {
  // A mirror that answers every read with 404 and records what it was asked.
  test::TestHttpServer mirror([](const test::HttpRequestSeen&) {
    test::HttpReply r;
    r.status = 404;
    return r;
  });
  // 1. Built with the local layer only: nothing on S3 yet.
  configure("");
  ASSERT_EQ(run({}), 0) << out_.str() << err_.str();
  const fs::path dir = output_ / "trixie" / "24.11.5" / "amd64";
  const fs::path artifact = dir / "slurm-24.11.5-trixie-amd64-software.tar.zst";
  ASSERT_TRUE(fs::is_regular_file(artifact));
  const std::string root_hash = test::events(out_.str()).back()["root_hash"];
  EXPECT_TRUE(s3_keys().empty());

  // 2. --publish cache with s3 and a read-only http layer: the artifact exists (returns at
  // once), and the entry still goes to S3, taken from the local layer.
  configure(s3_layer(server->endpoint()) + "    - {name: mirror, type: http, url: \"" +
            mirror.url("/cache/") + "\", writable: false}\n");
  ASSERT_EQ(run({"--publish", "cache"}), 0) << out_.str() << err_.str();
  auto ev = test::events(out_.str());
  EXPECT_NE(test::find_event(ev, "artifact", "exists"), nullptr) << out_.str();
  EXPECT_NE(test::find_event(ev, "publish", "done"), nullptr) << out_.str();
  auto s3pub = published(ev, "site-s3");
  ASSERT_FALSE(s3pub.is_null()) << out_.str();
  EXPECT_EQ(published(ev, "mirror"), nullptr) << "a read-only layer is no publish target";
  ASSERT_EQ(s3pub["entries_uploaded"].size(), 1U) << s3pub.dump(2);
  EXPECT_TRUE(s3pub["files_uploaded"].empty());
  const std::string entry = s3pub["entries_uploaded"][0];
  EXPECT_THAT(entry, HasSubstr("debian-trixie/amd64/slurm-24.11.5-" + root_hash.substr(0, 12)));
  auto keys = s3_keys();
  EXPECT_EQ(keys, (std::set<std::string>{entry + ".tar.zst", entry + ".manifest.json",
                                         entry + ".manifest.json.asc"}));

  // 3. --publish all: the entry is there, the artifact files go under trixie/24.11.5/amd64/.
  ASSERT_EQ(run({"--publish", "all"}), 0) << out_.str() << err_.str();
  ev = test::events(out_.str());
  s3pub = published(ev, "site-s3");
  ASSERT_FALSE(s3pub.is_null()) << out_.str();
  EXPECT_TRUE(s3pub["entries_uploaded"].empty());
  EXPECT_EQ(s3pub["entries_present"].size(), 1U);
  const std::string pre = "trixie/24.11.5/amd64/";
  // (<artifact>.asc: the artifact's own signature, written beside it by packaging.)
  const std::vector<std::string> files{pre + "slurm-24.11.5-trixie-amd64-software.tar.zst",
                                       pre + "slurm-24.11.5-trixie-amd64-software.tar.zst.asc",
                                       pre + "slurm-24.11.5-trixie-amd64-software.provenance.json",
                                       pre + "SHA256SUMS", pre + "SHA256SUMS.asc"};
  std::vector<std::string> uploaded = s3pub["files_uploaded"];
  for (const auto& f : files) {
    EXPECT_NE(std::find(uploaded.begin(), uploaded.end(), f), uploaded.end()) << f;
    EXPECT_EQ(keys.count(f), 0U);
  }
  keys = s3_keys();
  for (const auto& f : files) EXPECT_EQ(keys.count(f), 1U) << f;
  // The bytes on S3 are the artifact's, and the signed sums still check there.
  const fs::path back = dir_ / "back";
  fs::create_directories(back);
  for (const auto& f : files) {
    ASSERT_TRUE(s3()->get(f, back / fs::path(f).filename())) << f;
  }
  EXPECT_EQ(test::read_file(back / artifact.filename()), test::read_file(artifact));
  EXPECT_EQ(test::sh("cd '" + back.string() + "' && sha256sum --quiet -c SHA256SUMS"), 0);
  for (const std::string signed_file : {std::string("SHA256SUMS"), artifact.filename().string()}) {
    EXPECT_EQ(test::sh("GNUPGHOME='" + gpg_.path() + "' gpg --batch --quiet --verify '" +
                       (back / (signed_file + ".asc")).string() + "' '" +
                       (back / signed_file).string() + "' 2>/dev/null"),
              0)
        << signed_file;
  }

  // 4. The same again: nothing new goes up.
  ASSERT_EQ(run({"--publish", "all"}), 0) << out_.str() << err_.str();
  ev = test::events(out_.str());
  s3pub = published(ev, "site-s3");
  ASSERT_FALSE(s3pub.is_null());
  EXPECT_TRUE(s3pub["entries_uploaded"].empty()) << s3pub.dump(2);
  EXPECT_TRUE(s3pub["files_uploaded"].empty()) << s3pub.dump(2);
  EXPECT_EQ(s3pub["files_present"].size(), files.size());
  EXPECT_EQ(s3pub["bytes_uploaded"], 0);
  EXPECT_EQ(test::find_event(ev, "publish", "upload"), nullptr);

  // The http layer was read at most, never written.
  for (const auto& r : mirror.seen()) {
    EXPECT_TRUE(r.method == "GET" || r.method == "HEAD") << r.method << " " << r.target;
  }

  // cache list / verify / index on the s3 layer see the one entry, not the artifact files.
  ASSERT_EQ(cli({"--json", "cache", "list", "--layer", "site-s3"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr(fs::path(entry).filename().string()));
  EXPECT_THAT(out_.str(), Not(HasSubstr("software.tar.zst")));
  EXPECT_THAT(out_.str(), Not(HasSubstr("SHA256SUMS")));
  ASSERT_EQ(cli({"cache", "verify", "--layer", "site-s3"}), 0) << out_.str() << err_.str();
  EXPECT_THAT(out_.str() + err_.str(), Not(HasSubstr("BAD")));
  ASSERT_EQ(cli({"--json", "cache", "index", "--layer", "site-s3"}), 0) << out_.str() << err_.str();
  ASSERT_TRUE(s3()->get("debian-trixie/amd64/index.json", back / "index.json"));
  const auto index = nlohmann::json::parse(test::read_file(back / "index.json"));
  ASSERT_EQ(index["entries"].size(), 1U) << index.dump(2);
  EXPECT_EQ(index["entries"][0]["key"], entry);
  ASSERT_TRUE(s3()->get("index.json", back / "top.json"));
  EXPECT_EQ(nlohmann::json::parse(test::read_file(back / "top.json"))["directories"],
            nlohmann::json::array({"debian-trixie/amd64"}));
  // The page for people reads the published layout: the artifact, its sums, its signature.
  const fs::path html = dir_ / "html";
  ASSERT_EQ(cli({"cache", "index", "--layer", "site-s3", "--html", html.string(), "--base-url",
                 "https://mirror.example.org/sf"}),
            0)
      << out_.str() << err_.str();
  const std::string page = test::read_file(html / "index.html");
  EXPECT_THAT(page, HasSubstr("https://mirror.example.org/sf/" + files[0]));
  EXPECT_THAT(page, HasSubstr("https://mirror.example.org/sf/" + pre + "SHA256SUMS.asc"));
  EXPECT_THAT(page, HasSubstr("24.11.5"));
  EXPECT_THAT(err_.str(), Not(HasSubstr("warning")));
}

TEST_F(PublishTest, FreshBuildPublishesAllAndTheTextOutputSaysWhere) {
  configure(s3_layer(server->endpoint()));
  out_.str("");
  err_.str("");
  const int rc = cli::run(
      {"--config", config_.string(), "build-slurm", "--slurm-version", "24.11.5", "--toolchain",
       "trixie", "--backend", "docker", "--output", output_.string(), "--publish", "all"},
      out_, err_);
  ASSERT_EQ(rc, 0) << out_.str() << err_.str();
  // The build wrote the entry through the chain (local and s3); publish adds the artifact.
  EXPECT_THAT(err_.str(), HasSubstr("published to site-s3"));
  EXPECT_THAT(err_.str(), HasSubstr("0 entries uploaded, 1 already there; 5 artifact file(s) "
                                    "uploaded, 0 already there"));
  const auto keys = s3_keys();
  EXPECT_EQ(keys.count("trixie/24.11.5/amd64/slurm-24.11.5-trixie-amd64-software.tar.zst"), 1U);
  std::size_t manifests = 0;
  for (const auto& k : keys) manifests += k.find(".manifest.json") != std::string::npos ? 1 : 0;
  EXPECT_EQ(manifests, 2U);  // the manifest and its signature
}

TEST_F(PublishTest, NoWritableRemoteLayerIsAUsageErrorBeforeAnyWork) {
  test::TestHttpServer mirror([](const test::HttpRequestSeen&) { return test::HttpReply{404}; });
  configure("    - {name: mirror, type: http, url: \"" + mirror.url("/") +
            "\", writable: false}\n");
  EXPECT_EQ(run({"--publish", "cache"}), static_cast<int>(ExitCode::kUsage))
      << out_.str() << err_.str();
  EXPECT_THAT(err_.str(), HasSubstr("--publish cache needs a writable remote cache layer"));
  EXPECT_THAT(err_.str(), HasSubstr("mirror (http, read-only)"));
  EXPECT_THAT(err_.str(), HasSubstr("type: s3"));  // the snippet
  EXPECT_FALSE(fs::exists(output_));
  EXPECT_EQ(test::find_event(test::events(out_.str()), "build", "start"), nullptr);
}

TEST_F(PublishTest, AFailingLayerIsACacheErrorNamingItAndTheArtifactStays) {
  // Nothing listens on port 9: the layer fails (the build goes on without it), then publishing
  // to it fails.
  configure(s3_layer("http://127.0.0.1:9"));
  const int rc = run({"--publish", "all"});
  EXPECT_EQ(rc, static_cast<int>(ExitCode::kCache)) << out_.str() << err_.str();
  EXPECT_THAT(err_.str(), HasSubstr("publishing failed on 1 of 1 layer(s)"));
  EXPECT_THAT(err_.str(), HasSubstr("layer 'site-s3'"));
  EXPECT_THAT(err_.str(), HasSubstr("debian-trixie/amd64/slurm-24.11.5-"));
  EXPECT_THAT(err_.str(), HasSubstr("run the same build-slurm command again"));
  const fs::path artifact =
      output_ / "trixie/24.11.5/amd64/slurm-24.11.5-trixie-amd64-software.tar.zst";
  EXPECT_TRUE(fs::is_regular_file(artifact));
  const auto ev = test::events(out_.str());
  const auto* failed = test::find_event(ev, "publish", "failed");
  ASSERT_NE(failed, nullptr) << out_.str();
  EXPECT_THAT((*failed)["data"]["layers"][0]["failure"]["object"].get<std::string>(),
              HasSubstr("slurm-24.11.5-"));
}

}  // namespace
}  // namespace sf
