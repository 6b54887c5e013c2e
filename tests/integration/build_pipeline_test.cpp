// build-slurm end to end on docker, in a couple of seconds: a recipe folder holding a stand-in
// "slurm" (plain make: one program linking json-c, which the trixie build image has from
// libjson-c-dev but a minimal trixie host does not, one plugin, one header) whose source tarball is
// made here and placed, verified, in the source cache. The real trixie build image runs the build;
// the pipeline assembles the view (json-c copied out of the image and bundled), packages and signs
// with a throwaway key; the test checks the artifact, SHA256SUMS and its signature,
// provenance.json, `verify --deep`, that the bundled library is what the program loads from a
// moved copy of the view, that a rerun returns at once saying the artifact exists, and that a
// tampered artifact is rebuilt rather than trusted; --publish without a remote layer is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "../support/cli_runner.hpp"
#include "../support/pipeline_fixture.hpp"
#include "cli/cli.hpp"
#include "formats/elf_reader.hpp"
#include "signing/gpg_signer.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/http_client.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace sf {
namespace {

class BuildPipelineTest : public test::PipelineFixture {
 protected:
  BuildPipelineTest() : PipelineFixture("sf-pipeline", "Pipeline Test <pipeline@test.invalid>") {}
  void SetUp() override {
    PipelineFixture::SetUp();
    if (IsSkipped()) return;

    // The stand-in Slurm, its source pre-verified in the source cache: the pipeline's fetch finds
    // it and downloads nothing.
    ASSERT_TRUE(add_stand_in_slurm(
        "a stand-in for Slurm (a program linking json-c, a plugin)",
        "#include <json-c/json.h>\n#include <stdio.h>\n"
        "int main(void) {\n"
        "  json_object* o = json_object_new_object();\n"
        "  json_object_object_add(o, \"slurm\", json_object_new_string(\"24.11.5\"));\n"
        "  printf(\"fake sinfo %s\\n\", json_object_to_json_string(o));\n"
        "  json_object_put(o);\n  return 0;\n}\n",
        " -ljson-c", " $(DESTDIR)$(PREFIX)/include",
        "\tinstall -m 644 plugin.c $(DESTDIR)$(PREFIX)/include/slurm_fake.h\n",
        "system_dependencies:\n  - json-c\n"));
    write_config("toolchain-debian, backend-docker, cache-local");
  }

  int run(std::vector<std::string> args) { return build_slurm(std::move(args)); }
};

TEST_F(BuildPipelineTest, BuildsSignedVerifiedArtifactThenReturnsAtOnce) {
  ASSERT_EQ(run({"--verify"}), 0) << out_.str() << err_.str();
  const auto first = test::events(out_.str());
  const fs::path dir = output_ / "trixie" / "24.11.5" / "amd64";
  const fs::path artifact = dir / "slurm-24.11.5-trixie-amd64-software.tar.zst";
  const fs::path provenance = dir / "slurm-24.11.5-trixie-amd64-software.provenance.json";
  ASSERT_TRUE(fs::is_regular_file(artifact)) << out_.str();
  EXPECT_TRUE(fs::is_regular_file(provenance));
  EXPECT_TRUE(fs::is_regular_file(dir / "SHA256SUMS"));
  EXPECT_TRUE(fs::is_regular_file(dir / "SHA256SUMS.asc"));

  // Every stage reported, the result names the artifact, the deep check passed.
  for (const char* stage : {"plan", "fetch", "image", "build", "assemble", "package", "verify"}) {
    EXPECT_NE(test::find_event(first, stage, "done"), nullptr) << stage << "\n" << out_.str();
  }
  const auto* built = test::find_event(first, "build", "done");
  ASSERT_NE(built, nullptr);
  EXPECT_EQ((*built)["data"]["built"], 1);
  const auto* verified = test::find_event(first, "verify", "done");
  ASSERT_NE(verified, nullptr);
  EXPECT_EQ((*verified)["data"]["signer"], fpr_);
  EXPECT_GE((*verified)["data"]["elf_checked"].get<int>(), 3);  // sinfo, plugin, libjson-c
  const auto& result = first.back();
  EXPECT_EQ(result["event"], "result");
  // The run's work folder is renamed aside and removed by a detached process: soon nothing is
  // left under <cache>/work.
  auto work_left = [&] {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(cache_ / "work", ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      ++n;
    }
    return n;
  };
  for (int i = 0; i < 100 && work_left() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(work_left(), 0U);
  EXPECT_EQ(result["artifact"], artifact.string());
  EXPECT_EQ(result["existed"], false);

  // SHA256SUMS holds both files, and gpg accepts its signature.
  const std::string sums = test::read_file(dir / "SHA256SUMS");
  EXPECT_THAT(sums, HasSubstr(artifact.filename().string()));
  EXPECT_THAT(sums, HasSubstr(provenance.filename().string()));
  EXPECT_EQ(test::sh("GNUPGHOME='" + gpg_.path() + "' gpg --batch --quiet --verify '" +
                     (dir / "SHA256SUMS.asc").string() + "' '" + (dir / "SHA256SUMS").string() +
                     "' 2>/dev/null"),
            0);
  EXPECT_EQ(test::sh("cd '" + dir.string() + "' && sha256sum --quiet -c SHA256SUMS"), 0);

  // provenance.json: the plan's root hash, the package, the image, the bundled library.
  const auto prov = nlohmann::json::parse(test::read_file(provenance));
  EXPECT_EQ(prov["plan"]["root_hash"], result["root_hash"]);
  ASSERT_EQ(prov["packages"].size(), 1U);
  EXPECT_THAT(prov["system_packages"].dump(), HasSubstr("libjson-c-dev"));
  bool saw_slurm = false;
  for (const auto& p : prov["packages"]) {
    if (p["name"] != "slurm") continue;
    saw_slurm = true;
    EXPECT_EQ(p["hash"], result["root_hash"]);
    EXPECT_EQ(p["status"], "built");
    EXPECT_EQ(p["source_sha256"].get<std::string>().size(), 64U);
  }
  EXPECT_TRUE(saw_slurm);
  EXPECT_THAT(prov["toolchain"]["image"].get<std::string>(),
              HasSubstr("slurm-factory/toolchain-trixie:"));
  EXPECT_THAT(prov["toolchain"]["image_id"].get<std::string>(), HasSubstr("sha256:"));
  ASSERT_EQ(prov["view"]["bundled"].size(), 1U) << prov["view"].dump(2);
  EXPECT_EQ(prov["view"]["bundled"][0]["soname"], "libjson-c.so.5");
  EXPECT_EQ(prov["view"]["bundled"][0]["needed_by"], "bin/sinfo");
  // The plugin's dlopen name, read from the built plugin: the view carries json-c under it.
  ASSERT_EQ(prov["view"]["dlopen_names"].size(), 1U) << prov["view"].dump(2);
  EXPECT_EQ(prov["view"]["dlopen_names"][0]["plugin"], "lib/slurm/auth_fake.so");
  EXPECT_EQ(prov["view"]["dlopen_names"][0]["name"], "libjson-c.so");
  EXPECT_EQ(prov["view"]["dlopen_names"][0]["target"], "lib/libjson-c.so.5");
  EXPECT_EQ(prov["view"]["dlopen_names"][0]["linked"], true);
  EXPECT_EQ(prov["signing_key"], fpr_);

  // The tarball's layout: the view with the bundled library, no header, modulefiles, assets.
  const std::string listing = test::capture("tar --zstd -tf '" + artifact.string() + "'");
  for (const char* entry : {"view/bin/sinfo", "view/lib/libjson-c.so.5", "view/lib/libjson-c.so",
                            "view/lib/slurm/auth_fake.so", "modules/slurm/24.11.5-trixie.lua",
                            "data/slurm_assets/slurm_install.sh"}) {
    EXPECT_THAT(listing, HasSubstr(std::string(entry) + "\n")) << entry;
  }
  EXPECT_THAT(listing, ::testing::Not(HasSubstr("include/")));

  // The program runs from a moved copy of the view in a minimal trixie (no libjson-c there),
  // loading json-c from the view.
  const fs::path unpacked = dir_ / "unpacked";
  fs::create_directories(unpacked);
  ASSERT_EQ(test::sh("tar --zstd -xf '" + artifact.string() + "' -C '" + unpacked.string() + "'"),
            0);
  const std::string base = test::capture(
      "docker images --format '{{.Repository}}:{{.Tag}}' 'slurm-factory/base-trixie' | head -n1");
  if (!base.empty()) {
    const std::string image = base.substr(0, base.find('\n'));
    const std::string ran =
        test::capture("docker run --rm --network none -v '" + unpacked.string() +
                      "/view:/srv/elsewhere/view:ro' " + image +
                      " sh -c 'test ! -e /usr/lib/x86_64-linux-gnu/libjson-c.so.5 && "
                      "/srv/elsewhere/view/bin/sinfo && ldd /srv/elsewhere/view/bin/sinfo' 2>&1");
    EXPECT_THAT(ran, HasSubstr("fake sinfo { \"slurm\": \"24.11.5\" }"));
    EXPECT_THAT(ran, HasSubstr("libjson-c.so.5 => /srv/elsewhere/view/bin/../lib/libjson-c.so.5"));
  }

  // A rerun: the artifact exists, valid and signed -> said so, at once, nothing rebuilt.
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(run({}), 0) << out_.str() << err_.str();
  const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LE(secs, 1.0);
  const auto second = test::events(out_.str());
  EXPECT_NE(test::find_event(second, "artifact", "exists"), nullptr) << out_.str();
  EXPECT_EQ(test::find_event(second, "build", "start"), nullptr) << out_.str();
  EXPECT_EQ(second.back()["existed"], true);
  EXPECT_EQ(second.back()["artifact"], artifact.string());

  // A flipped byte in the artifact: not trusted, packaged again from the cached entry.
  {
    std::fstream f(artifact, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a');
  }
  ASSERT_EQ(run({}), 0) << out_.str() << err_.str();
  const auto third = test::events(out_.str());
  EXPECT_EQ(test::find_event(third, "artifact", "exists"), nullptr) << out_.str();
  const auto* rebuilt = test::find_event(third, "build", "done");
  ASSERT_NE(rebuilt, nullptr);
  EXPECT_EQ((*rebuilt)["data"]["built"], 0);
  EXPECT_EQ((*rebuilt)["data"]["cached"], 1);
  EXPECT_EQ(third.back()["existed"], false);
  EXPECT_EQ(test::sh("cd '" + dir.string() + "' && sha256sum --quiet -c SHA256SUMS"), 0);
}

TEST_F(BuildPipelineTest, PublishWithoutRemoteLayerIsRefusedBeforeAnyWork) {
  // The config has only the default local layer (publish_test.cpp publishes to s3rver).
  EXPECT_EQ(run({"--publish", "all"}), static_cast<int>(ExitCode::kUsage))
      << out_.str() << err_.str();
  EXPECT_THAT(err_.str(), HasSubstr("--publish all needs a writable remote cache layer"));
  EXPECT_THAT(err_.str(), HasSubstr("local (local)"));
  EXPECT_FALSE(fs::exists(output_));
}

// The built/cached counts of a run's "build done" event (-1 when absent).
std::pair<int, int> built_and_cached(const std::vector<nlohmann::json>& ev) {
  const auto* done = test::find_event(ev, "build", "done");
  if (done == nullptr) return {-1, -1};
  return {(*done)["data"].value("built", -1), (*done)["data"].value("cached", -1)};
}

TEST_F(BuildPipelineTest, TmpdirOnTmpfsStillGivesAFullCacheHitOnTheSecondBuild) {
  // Debian trixie mounts /tmp as tmpfs; here TMPDIR=/dev/shm (tmpfs) while the cache is on the
  // root file system: the second build must take every package from the cache.
  const fs::path shm = fs::path("/dev/shm") / ("sf-tmpdir-build-" + std::to_string(::getpid()));
  fs::create_directories(shm);
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  ::setenv("TMPDIR", shm.c_str(), 1);
  const int first = run({});
  fs::remove_all(output_);  // not the artifact: the packages must come from the cache
  const int second = run({"--verify"});
  if (old)
    ::setenv("TMPDIR", saved.c_str(), 1);
  else
    ::unsetenv("TMPDIR");
  const std::string shm_left = test::capture("ls -A '" + shm.string() + "'");
  fs::remove_all(shm);
  ASSERT_EQ(first, 0) << out_.str() << err_.str();
  ASSERT_EQ(second, 0) << out_.str() << err_.str();
  const auto [built, cached] = built_and_cached(test::events(out_.str()));
  EXPECT_EQ(built, 0) << out_.str();
  EXPECT_GE(cached, 1) << out_.str();
  EXPECT_TRUE(fs::is_regular_file(output_ / "trixie" / "24.11.5" / "amd64" /
                                  "slurm-24.11.5-trixie-amd64-software.tar.zst"));
  EXPECT_EQ(shm_left.find("sf-cache-"), std::string::npos) << shm_left;
}

TEST_F(BuildPipelineTest, KilledBuildsLeaveNothingReadAsValidAndGcCleansUp) {
  // build-slurm (the real binary, --no-cache so that every run builds, packs, signs, writes the
  // cache and packages) SIGKILLed at several moments; after each kill the local layer verifies
  // clean; a rerun completes and its artifact verifies; `cache gc` leaves no temp file and no work
  // folder of the killed runs.
  ASSERT_TRUE(fs::is_regular_file(test::cli_binary())) << test::cli_binary();
  ASSERT_EQ(run({}), 0) << out_.str() << err_.str();  // the image and the cache, warm
  const std::vector<std::string> args{"--json",      "build-slurm",    "--slurm-version", "24.11.5",
                                      "--toolchain", "trixie",         "--backend",       "docker",
                                      "--output",    output_.string(), "--no-cache"};
  int killed = 0;
  std::vector<pid_t> pids;
  // Kill points spread over one uninterrupted --no-cache run's time on this machine.
  const auto points = test::kill_points(
      [&] {
        const pid_t pid = test::spawn_cli(config_, args, dir_ / "killed.log");
        ASSERT_GT(pid, 0);
        EXPECT_FALSE(test::kill_after(pid, std::chrono::minutes(10)));
      },
      {0.04, 0.12, 0.25, 0.4, 0.55, 0.7, 0.85, 0.95});
  for (const auto point : points) {
    const long long ms = point.count();
    const pid_t pid = test::spawn_cli(config_, args, dir_ / "killed.log");
    ASSERT_GT(pid, 0);
    pids.push_back(pid);
    if (test::kill_after(pid, point)) ++killed;
    EXPECT_EQ(cli({"cache", "verify", "--layer", "local"}), 0)
        << "after a kill at " << ms << " ms:\n"
        << out_.str() << err_.str();
  }
  EXPECT_GE(killed, 5) << test::read_file(dir_ / "killed.log");
  // A rerun that trusts what is there (artifact or cache) and one that rebuilds: both complete.
  ASSERT_EQ(run({"--verify"}), 0) << out_.str() << err_.str();
  ASSERT_EQ(run({"--verify", "--no-cache"}), 0) << out_.str() << err_.str();
  ASSERT_EQ(cli({"cache", "verify"}), 0) << out_.str() << err_.str();
  ASSERT_EQ(cli({"cache", "gc", "--older-than", "10000"}), 0) << out_.str() << err_.str();
  std::error_code ec;
  for (fs::recursive_directory_iterator it(cache_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.rfind(".sf-tmp-", 0) == 0 || n.find(".tmp.") != std::string::npos)
      ADD_FAILURE() << "temp file left after gc: " << it->path();
  }
  for (fs::directory_iterator it(cache_ / "work", ec), end; !ec && it != end; it.increment(ec)) {
    for (const pid_t p : pids) {
      if (it->path().filename().string().find("-" + std::to_string(p)) != std::string::npos)
        ADD_FAILURE() << "work folder of killed run left after gc: " << it->path();
    }
  }
  for (fs::directory_iterator it(output_ / "trixie" / "24.11.5" / "amd64", ec), end;
       !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.rfind(".sf-tmp-", 0) == 0 || n.find(".tmp") != std::string::npos)
      ADD_FAILURE() << "temp file left in the output folder: " << it->path();
  }
}

}  // namespace
}  // namespace sf
