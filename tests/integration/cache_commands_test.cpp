// The cache CLI round trip against a real S3 server (s3rver): entries made with a throwaway key go
// to the local layer, `cache push --all` sends them to S3, the local layer is wiped, `cache pull
// --all` brings them back, and `cache verify` passes on both layers (signatures and every sha256).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../support/cache_fixture.hpp"
#include "../support/cli_runner.hpp"
#include "../support/layers_config.hpp"
#include "../support/s3rver.hpp"
#include "../support/test_http_server.hpp"
#include "cache/cache_chain.hpp"
#include "cli/cli.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace sf {
namespace {

TEST(CacheCommandsS3, PushAllWipePullAllVerify) {
  test::S3rver server("sf-cli");
  test::TempDir dir("sf-cachecli");
  test::GpgHome gpg;
  ::setenv("XDG_CONFIG_HOME", (dir / "xdg").c_str(), 1);
  ::setenv("SLURM_FACTORY_CACHE_DIR", (dir / "home").c_str(), 1);
  ::unsetenv("SLURM_FACTORY_PLUGIN_PATH");
  const auto fpr = GpgSigner::generate_key(gpg.path(), "Round Trip <rt@test.invalid>");
  GpgSigner signer(GpgSignerOptions{gpg.path(), fpr, {}, {}, {}, {}});
  const fs::path local = dir / "local";
  const fs::path config = dir / "config.yaml";
  std::ofstream(config) << test::local_and_s3_layers(
                               local, server, ", multipart_threshold: 1048576, part_size: 5242880")
                        << "signing:\n  keyring: '" << gpg.path() << "'\n  trusted_fingerprints: ["
                        << fpr << "]\n  require_signed: true\n";

  std::vector<CacheEntryKey> keys;
  for (const auto& [name, h] : {std::pair{"json-c", "a"}, {"lz4", "b"}, {"slurm", "c"}}) {
    auto key = test::sample_key(name, h);
    auto files = test::make_entry(dir / "work", key, &signer, std::string(3 << 20, 'x') + name);
    for (auto [from, k] :
         {std::pair{files.tarball, key.tarball()}, std::pair{files.manifest, key.manifest()},
          std::pair{files.signature, key.signature()}}) {
      fs::create_directories((local / k).parent_path());
      fs::copy_file(from, local / k);
    }
    keys.push_back(key);
  }
  std::ostringstream out, err;
  auto run = [&](std::vector<std::string> args) {
    out.str("");
    err.str("");
    std::vector<std::string> full{"--config", config.string()};
    full.insert(full.end(), args.begin(), args.end());
    return cli::run(full, out, err);
  };

  ASSERT_EQ(run({"cache", "push", "--all"}), 0) << out.str() << err.str();
  EXPECT_THAT(out.str(), HasSubstr("3 pushed"));
  ASSERT_EQ(run({"cache", "verify", "--layer", "site-s3"}), 0) << out.str() << err.str();
  EXPECT_THAT(out.str(), HasSubstr("3 entries checked, 0 bad"));
  ASSERT_EQ(run({"cache", "index", "--layer", "site-s3"}), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("indexed 3 entries"));

  fs::remove_all(local);
  ASSERT_EQ(run({"--json", "cache", "list", "--layer", "local"}), 0) << err.str();
  EXPECT_EQ(nlohmann::json::parse(out.str()).size(), 0U);

  ASSERT_EQ(run({"cache", "pull", "--all"}), 0) << out.str() << err.str();
  EXPECT_THAT(out.str(), HasSubstr("3 pulled"));
  for (const auto& k : keys) {
    EXPECT_TRUE(fs::exists(local / k.tarball())) << k.base();
    EXPECT_TRUE(fs::exists(local / k.signature())) << k.base();
  }
  ASSERT_EQ(run({"cache", "verify"}), 0) << out.str() << err.str();
  EXPECT_THAT(out.str(), HasSubstr("6 entries checked, 0 bad"));

  // Both layers list the three entries.
  ASSERT_EQ(run({"--json", "cache", "list"}), 0) << err.str();
  auto listed = nlohmann::json::parse(out.str());
  EXPECT_EQ(listed.size(), 6U);

  // A tampered object in S3 is found, and not pulled.
  test::write_file(dir / "junk", "not a tarball");
  auto s3 = test::make_layer("s3", "site-s3", "s3://" + server.bucket() + "/builds", true,
                             {{"endpoint", server.endpoint()}, {"region", "us-east-1"}});
  ASSERT_TRUE(s3->put(keys[0].tarball(), dir / "junk"));
  EXPECT_EQ(run({"cache", "verify", "--layer", "site-s3"}),
            static_cast<int>(ExitCode::kVerification));
  EXPECT_THAT(out.str(), HasSubstr("BAD  site-s3  " + keys[0].base()));
  fs::remove_all(local);
  EXPECT_EQ(run({"cache", "pull", "--all"}), static_cast<int>(ExitCode::kCache));
  EXPECT_FALSE(fs::exists(local / keys[0].manifest()));
  EXPECT_TRUE(fs::exists(local / keys[1].manifest()));
  ::unsetenv("XDG_CONFIG_HOME");
}

// A fault proxy in front of s3rver: forwards every request as it came (SigV4 headers and Host
// included, so s3rver checks the client's own signature), except that GETs whose path holds
// `fail_get` are answered 503 (a download that fails, while listing and DELETE still work).
struct FaultProxy {
  std::string upstream;
  std::string fail_get;
  std::atomic<int> refused{0};
  test::TestHttpServer server{[this](const test::HttpRequestSeen& r) { return answer(r); }};

  test::HttpReply answer(const test::HttpRequestSeen& r) {
    if (r.method == "GET" && !fail_get.empty() && r.target.find(fail_get) != std::string::npos) {
      ++refused;
      return {503, {}, "<Error><Code>SlowDown</Code></Error>", {}, false};
    }
    http::ClientOptions o;
    o.retry.max_attempts = 1;
    http::HttpClient client(o);
    http::Request q;
    q.method = r.method;
    q.url = upstream + r.target;
    for (const auto& [k, v] : r.headers)
      if (k != "content-length" && k != "connection" && k != "expect" && k != "accept-encoding")
        q.headers.emplace_back(k, v);
    q.body = r.body;
    q.send_body = r.method == "PUT" || r.method == "POST";
    auto res = client.perform(q);
    if (!res) return {502, {}, res.error().message, {}, false};
    test::HttpReply reply{static_cast<int>(res->status), {}, res->body, {}, false};
    for (const auto& [k, v] : res->headers) {
      if (k == "content-length") {
        if (r.method == "HEAD") reply.headers.emplace_back("Content-Length", v);
      } else if (k == "etag" || k == "last-modified" || k == "content-type") {
        reply.headers.emplace_back(k, v);
      }
    }
    return reply;
  }
};

std::string layers_at(const fs::path& local, const std::string& bucket,
                      const std::string& endpoint) {
  return "plugins:\n  search_paths: [" SF_TEST_PLUGIN_DIR
         "]\n  load: [cache-local, cache-s3]\n"
         "cache:\n  layers:\n"
         "    - {name: local, type: local, url: 'file://" +
         local.string() +
         "'}\n"
         "    - name: site-s3\n      type: s3\n      url: s3://" +
         bucket +
         "/builds\n"
         "      settings: {endpoint: '" +
         endpoint + "', region: us-east-1, path_style: true, retries: 1}\n";
}

TEST(CacheCommandsS3, VerifyRemoveDeletesOnlyEntriesProvenBad) {
  // Five entries on a real s3rver, seen through a fault proxy: a good one, one whose tarball was
  // replaced (proven bad), one whose manifest was edited after signing (proven bad), one signed by
  // a key outside the trust anchor (untrusted, nothing proven) and one whose download fails (a
  // transient error). `cache verify --remove` reports the four and removes exactly the two.
  test::S3rver server("sf-verify");
  FaultProxy proxy;
  proxy.upstream = server.endpoint();
  test::TempDir dir("sf-verify-rm");
  test::GpgHome gpg, stranger_home;
  ::setenv("XDG_CONFIG_HOME", (dir / "xdg").c_str(), 1);
  ::setenv("SLURM_FACTORY_CACHE_DIR", (dir / "home").c_str(), 1);
  ::unsetenv("SLURM_FACTORY_PLUGIN_PATH");
  const auto fpr = GpgSigner::generate_key(gpg.path(), "Trusted <t@test.invalid>");
  const auto sfpr = GpgSigner::generate_key(stranger_home.path(), "Stranger <s@test.invalid>");
  GpgSigner signer(GpgSignerOptions{gpg.path(), fpr, {}, {}, {}, {}});
  GpgSigner stranger(GpgSignerOptions{stranger_home.path(), sfpr, {}, {}, {}, {}});
  const fs::path config = dir / "config.yaml";
  std::ofstream(config) << layers_at(dir / "local", server.bucket(), proxy.server.url(""))
                        << "signing:\n  keyring: '" << gpg.path() << "'\n  trusted_fingerprints: ["
                        << fpr << "]\n";
  auto s3 = test::make_layer("s3", "direct", "s3://" + server.bucket() + "/builds", true,
                             {{"endpoint", server.endpoint()}, {"region", "us-east-1"}});
  CacheChain plain({}, {});
  const auto good = test::sample_key("good", "a");
  const auto replaced = test::sample_key("replaced", "b");
  const auto edited = test::sample_key("edited", "c");
  const auto foreign = test::sample_key("foreign", "d");
  const auto flaky = test::sample_key("flaky", "e");
  for (const auto& k : {good, replaced, edited, flaky}) {
    auto files = test::make_entry(dir / "work", k, &signer, "payload " + k.name);
    ASSERT_TRUE(plain.put_to(*s3, k, files));
  }
  ASSERT_TRUE(plain.put_to(*s3, foreign, test::make_entry(dir / "work", foreign, &stranger)));
  test::write_file(dir / "junk", "not the signed tarball");
  ASSERT_TRUE(s3->put(replaced.tarball(), dir / "junk"));
  {
    ASSERT_TRUE(s3->get(edited.manifest(), dir / "m.json"));
    auto text = test::read_file(dir / "m.json");
    text.replace(text.find("\"builder_version\": \""), 20, "\"builder_version\": \"Z");
    test::write_file(dir / "m.json", text);
    ASSERT_TRUE(s3->put(edited.manifest(), dir / "m.json"));
  }
  proxy.fail_get = flaky.tarball();

  std::ostringstream out, err;
  std::vector<std::string> full{"--config", config.string(), "--json",  "cache",
                                "verify",   "--remove",      "--layer", "site-s3"};
  EXPECT_EQ(cli::run(full, out, err), static_cast<int>(ExitCode::kVerification)) << err.str();
  EXPECT_GT(proxy.refused, 0);
  const auto report = nlohmann::json::parse(out.str());
  EXPECT_EQ(report["checked"], 5);
  EXPECT_EQ(report["bad"], 4);
  std::map<std::string, nlohmann::json> by_key;
  for (const auto& e : report["entries"]) by_key[e["key"].get<std::string>()] = e;
  EXPECT_EQ(by_key[replaced.base()]["removed"], true) << by_key[replaced.base()].dump();
  EXPECT_EQ(by_key[edited.base()]["removed"], true) << by_key[edited.base()].dump();
  EXPECT_EQ(by_key[foreign.base()]["removed"], false) << by_key[foreign.base()].dump();
  EXPECT_EQ(by_key[flaky.base()]["removed"], false) << by_key[flaky.base()].dump();
  EXPECT_EQ(by_key[good.base()]["ok"], true);
  // What is really left in the bucket (asked directly, not through the proxy).
  EXPECT_FALSE(*s3->has(replaced.manifest()));
  EXPECT_FALSE(*s3->has(replaced.tarball()));
  EXPECT_FALSE(*s3->has(edited.manifest()));
  for (const auto& k : {good, foreign, flaky}) {
    EXPECT_TRUE(*s3->has(k.manifest())) << k.base();
    EXPECT_TRUE(*s3->has(k.tarball())) << k.base();
    EXPECT_TRUE(*s3->has(k.signature())) << k.base();
  }

  // The whole layer unreachable after it was listed (every GET of an entry fails): nothing goes.
  proxy.fail_get = "/builds/debian-bookworm/";
  EXPECT_EQ(cli::run(full, out, err), static_cast<int>(ExitCode::kVerification)) << err.str();
  for (const auto& k : {good, foreign, flaky}) EXPECT_TRUE(*s3->has(k.manifest())) << k.base();
  ::unsetenv("XDG_CONFIG_HOME");
}

// Every file under `root` whose name marks it as a temp file (ours or the old ".tmp." names).
std::vector<fs::path> temp_files_under(const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.rfind(".sf-tmp-", 0) == 0 || n.find(".tmp.") != std::string::npos ||
        n.rfind("sf-cache-", 0) == 0)
      out.push_back(it->path());
  }
  return out;
}

TEST(CacheCommandsS3, KilledPullsLeaveNothingReadAsValidAndGcCleansUp) {
  // `cache pull --all` of four 24 MiB entries, SIGKILLed at several moments (the real binary);
  // after every kill the local layer verifies clean, the last pull completes, and after `cache
  // gc` no temp file or scratch folder of the killed runs is left, in the cache or in TMPDIR.
  const fs::path bin = test::cli_binary();
  ASSERT_TRUE(fs::is_regular_file(bin)) << bin;
  test::S3rver server("sf-kill");
  test::TempDir dir("sf-kill-pull");
  test::GpgHome gpg;
  const fs::path tmpdir = dir / "tmpdir";  // the killed runs' TMPDIR, to look for leftovers
  fs::create_directories(tmpdir);
  ::setenv("XDG_CONFIG_HOME", (dir / "xdg").c_str(), 1);
  ::setenv("SLURM_FACTORY_CACHE_DIR", (dir / "home").c_str(), 1);
  ::unsetenv("SLURM_FACTORY_PLUGIN_PATH");
  const auto fpr = GpgSigner::generate_key(gpg.path(), "Kill <k@test.invalid>");
  GpgSigner signer(GpgSignerOptions{gpg.path(), fpr, {}, {}, {}, {}});
  const fs::path local = dir / "home" / "binary";
  const fs::path config = dir / "config.yaml";
  std::ofstream(config) << test::local_and_s3_layers(local, server, "") << "signing:\n  keyring: '"
                        << gpg.path() << "'\n  trusted_fingerprints: [" << fpr
                        << "]\n  require_signed: true\n";
  auto s3 = test::make_layer("s3", "direct", "s3://" + server.bucket() + "/builds", true,
                             {{"endpoint", server.endpoint()}, {"region", "us-east-1"}});
  CacheChain plain({}, {});
  std::vector<CacheEntryKey> keys;
  for (const auto& [name, h] :
       {std::pair{"json-c", "a"}, {"lz4", "b"}, {"munge", "c"}, {"slurm", "d"}}) {
    auto key = test::sample_key(name, h);
    std::string payload(24 << 20, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i)
      payload[i] = static_cast<char>((i * 2654435761U + static_cast<unsigned>(h[0])) >> 13);
    ASSERT_TRUE(plain.put_to(*s3, key, test::make_entry(dir / "work", key, &signer, payload)));
    keys.push_back(key);
  }

  std::ostringstream out, err;
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> full{"--config", config.string()};
    full.insert(full.end(), args.begin(), args.end());
    out.str("");
    err.str("");
    return cli::run(full, out, err);
  };
  const char* old_tmp = std::getenv("TMPDIR");
  const std::string saved_tmp = old_tmp ? old_tmp : "";
  int killed = 0;
  // Kill points spread over one uninterrupted pull's time on this machine (into a scratch cache,
  // so that the measured pull does not warm the one under test).
  const auto points = test::kill_points(
      [&] {
        const std::string scratch_config = (dir / "scratch-config.yaml").string();
        std::string text = test::read_file(config);
        const std::string from = local.string();
        const auto at = text.find(from);
        ASSERT_NE(at, std::string::npos) << text;
        text.replace(at, from.size(), (dir / "scratch-binary").string());
        std::ofstream(scratch_config) << text;
        const pid_t pid =
            test::spawn_cli(scratch_config, {"cache", "pull", "--all"}, dir / "pull.log");
        ASSERT_GT(pid, 0);
        EXPECT_FALSE(test::kill_after(pid, std::chrono::minutes(5)));
      },
      {0.03, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95});
  for (const auto point : points) {
    const long long ms = point.count();
    ::setenv("TMPDIR", tmpdir.c_str(), 1);
    const pid_t pid = test::spawn_cli(config, {"cache", "pull", "--all"}, dir / "pull.log");
    if (old_tmp)
      ::setenv("TMPDIR", saved_tmp.c_str(), 1);
    else
      ::unsetenv("TMPDIR");
    ASSERT_GT(pid, 0);
    if (test::kill_after(pid, point)) ++killed;
    // Whatever the moment, nothing half-written is taken for an entry.
    EXPECT_EQ(run({"cache", "verify", "--layer", "local"}), 0)
        << "after a kill at " << ms << " ms:\n"
        << out.str() << err.str();
  }
  EXPECT_GE(killed, 4) << test::read_file(dir / "pull.log");
  ASSERT_EQ(run({"cache", "pull", "--all"}), 0) << out.str() << err.str();
  ASSERT_EQ(run({"cache", "verify", "--layer", "local"}), 0) << out.str() << err.str();
  EXPECT_THAT(out.str(), HasSubstr("4 entries checked, 0 bad"));
  ASSERT_EQ(run({"cache", "gc", "--older-than", "10000"}), 0) << out.str() << err.str();
  for (const auto& p : temp_files_under(dir / "home")) ADD_FAILURE() << "left after gc: " << p;
  for (const auto& p : temp_files_under(tmpdir)) ADD_FAILURE() << "left in TMPDIR: " << p;
  for (const auto& k : keys) EXPECT_TRUE(fs::is_regular_file(local / k.manifest())) << k.base();
  ::unsetenv("XDG_CONFIG_HOME");
}

}  // namespace
}  // namespace sf
