// `cache index --html DIR` end to end: real signed artifact sets made by the project's packaging
// code (tarball packager plugin, a throwaway GPG key), published under
// <toolchain>/<version>/<arch>/ into a real local layer and a real s3rver bucket, the page written
// by the CLI, then loaded in headless Chromium: the rendered DOM has one row per artifact with the
// right version, toolchain, GPU, arch, size, sha256, and every link it holds reaches the file (on
// disk for the local layer's relative links, over HTTP for the bucket's public_url links).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>

#include "../support/cache_fixture.hpp"
#include "../support/cli_runner.hpp"
#include "../support/layers_config.hpp"
#include "../support/requirement.hpp"
#include "../support/s3rver.hpp"
#include "artifact/artifact_checksums.hpp"
#include "artifact/artifact_packaging.hpp"
#include "cli/cli.hpp"
#include "slurm_factory/http_client.hpp"
#include "slurm_factory/packager.hpp"
#include "support/human_size.hpp"
#include "support/template_renderer.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace sf {
namespace {

std::string chromium_binary() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (fs::exists(p)) return p;
  return "";
}

// The DOM Chromium builds from the page (after parsing, as a browser shows it).
std::string rendered_dom(const fs::path& page, const fs::path& profile) {
  const std::string cmd = chromium_binary() +
                          " --headless --no-sandbox --disable-gpu --no-first-run"
                          " --user-data-dir='" +
                          profile.string() + "' --dump-dom 'file://" + page.string() +
                          "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  if (!p) return "";
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p.get())) out.append(buf, n);
  return out;
}

struct Row {
  std::map<std::string, std::string> cells;  // td class -> text
  std::string bytes;                         // td.size data-bytes
  std::map<std::string, std::string> links;  // a class -> href
};

std::vector<Row> artifact_rows(const std::string& dom) {
  std::vector<Row> rows;
  const std::regex row_re(R"re(<tr class="artifact"[^>]*>([\s\S]*?)</tr>)re");
  const std::regex cell_re(R"re(<td class="([a-z0-9]+)"([^>]*)>([\s\S]*?)</td>)re");
  const std::regex code_re(R"re(</?code>)re");
  const std::regex bytes_re(R"re(data-bytes="(\d+)")re");
  const std::regex link_re(R"re(<a class="([a-z-]+)" href="([^"]*)")re");
  for (std::sregex_iterator it(dom.begin(), dom.end(), row_re), end; it != end; ++it) {
    Row r;
    const std::string body = (*it)[1];
    for (std::sregex_iterator c(body.begin(), body.end(), cell_re); c != end; ++c) {
      const std::string cls = (*c)[1];
      const std::string attrs = (*c)[2];
      if (cls != "links") r.cells[cls] = std::regex_replace((*c)[3].str(), code_re, "");
      std::smatch m;
      if (std::regex_search(attrs, m, bytes_re)) r.bytes = m[1];
    }
    for (std::sregex_iterator l(body.begin(), body.end(), link_re); l != end; ++l)
      r.links[(*l)[1]] = (*l)[2];
    rows.push_back(r);
  }
  return rows;
}

struct Published {
  std::string key;  // the artifact's key
  std::string version, toolchain, gpu, created;
  std::uint64_t size = 0;
  std::string sha256;
  bool artifact_signed = false;
};

class CacheIndexHtml : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    host_ = new PluginHost();
    host_->load_file(fs::path(SF_TEST_PLUGIN_DIR) / "libsf-packager-tarball.so");
    home_ = new test::GpgHome();
    fpr_ = GpgSigner::generate_key(home_->path(), "Index Test <index@test.invalid>");
    signer_ = new GpgSigner({home_->path(), fpr_, {}, {}, {}, {}});
  }
  static void TearDownTestSuite() {
    delete signer_;
    delete home_;
    delete host_;
  }

  // Packs a tiny staged view as the artifact of (version, toolchain, gpu) into
  // <publish>/<toolchain>/<version>/amd64/, as build-slurm --publish lays it out.
  Published make_set(const std::string& version, const std::string& toolchain,
                     std::vector<std::string> gpu, bool sign_artifact) {
    const std::string rel = toolchain + "/" + version + "/amd64";
    const fs::path staging = dir_ / ("stage-" + version + toolchain + std::to_string(gpu.size()));
    test::write_file(staging / "view/bin/sinfo", "#!/bin/sh\necho slurm " + version + "\n");
    test::write_file(staging / "view/share/doc/README",
                     "Slurm " + version + " " + toolchain + "\n");
    auto packager = host_->make_packager("tarball", nlohmann::json::object());
    ArtifactPackagingRequest req;
    req.info = {version, toolchain, "debian",     "Debian " + toolchain,
                "amd64", gpu,       "/opt/slurm", "0.1.0"};
    req.staging = staging;
    req.output_dir = dir_ / "publish" / rel;
    fs::create_directories(req.output_dir);
    req.mtime = 1700000000;
    req.signer = signer_;
    req.provenance = {{"created", "2026-11-2" + std::to_string(sets_++) + "T10:00:00Z"}};
    auto result = package_artifact(req, *packager,
                                   TemplateRenderer(fs::path(SF_TEST_SOURCE_DIR) / "templates"));
    // package_artifact signs the artifact itself; an older upload has no <artifact>.asc.
    const fs::path asc = result.artifact.string() + ".asc";
    if (!sign_artifact) {
      fs::remove(asc);
    } else if (!fs::exists(asc)) {
      std::ofstream(asc) << signer_->sign_detached(test::read_file(result.artifact));
    }
    Published p;
    p.key = rel + "/" + result.artifact.filename().string();
    p.version = version;
    p.toolchain = toolchain;
    for (const auto& g : gpu) p.gpu += (p.gpu.empty() ? "" : ", ") + g;
    if (p.gpu.empty()) p.gpu = "none";
    p.created = req.provenance["created"];
    p.size = fs::file_size(result.artifact);
    p.sha256 = *sha256_of_file(result.artifact);
    p.artifact_signed = sign_artifact;
    return p;
  }

  // Uploads every published file (and one cache entry, which is no artifact) through a provider.
  void upload_to(CacheProvider& layer) {
    const fs::path root = dir_ / "publish";
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (!e.is_regular_file()) continue;
      const std::string key = e.path().lexically_relative(root).generic_string();
      auto r = layer.put(key, e.path());
      ASSERT_TRUE(r) << key << ": " << r.error().message;
    }
    auto key = test::sample_key("slurm", "d");
    auto files = test::make_entry(dir_ / "entry", key, signer_);
    ASSERT_TRUE(layer.put(key.tarball(), files.tarball));
    ASSERT_TRUE(layer.put(key.manifest(), files.manifest));
  }

  int run(const std::vector<std::string>& args) { return test::run_cli(config_, args, out_, err_); }

  // Loads the page in Chromium and checks one row per artifact; `reach(href)` returns the bytes
  // the link leads to (or nullopt when it leads nowhere).
  template <typename Reach>
  void check_page(const fs::path& page, const std::vector<Published>& sets, Reach reach) {
    const std::string dom = rendered_dom(page, dir_ / ("chromium-" + std::to_string(pages_++)));
    ASSERT_THAT(dom, HasSubstr("id=\"artifacts\"")) << "Chromium rendered no table:\n" << dom;
    const auto rows = artifact_rows(dom);
    ASSERT_EQ(rows.size(), sets.size()) << dom;
    std::size_t matched = 0;
    for (const auto& s : sets) {
      for (const auto& r : rows) {
        auto art = r.links.find("artifact-link");
        if (art == r.links.end() || art->second.find(s.key) == std::string::npos) continue;
        ++matched;
        SCOPED_TRACE(s.key);
        EXPECT_EQ(r.cells.at("version"), s.version);
        EXPECT_EQ(r.cells.at("toolchain"), s.toolchain);
        EXPECT_EQ(r.cells.at("gpu"), s.gpu);
        EXPECT_EQ(r.cells.at("arch"), "amd64");
        EXPECT_EQ(r.cells.at("size"), human_size(s.size));
        EXPECT_EQ(r.bytes, std::to_string(s.size));
        EXPECT_EQ(r.cells.at("date"), s.created);
        EXPECT_EQ(r.cells.at("sha256"), s.sha256);
        EXPECT_EQ(r.links.count("signature-link"), s.artifact_signed ? 1U : 0U);
        for (const char* must :
             {"artifact-link", "checksums-link", "checksums-signature-link", "provenance-link"})
          EXPECT_EQ(r.links.count(must), 1U) << must;
        for (const auto& [cls, href] : r.links) {
          auto bytes = reach(href);
          ASSERT_TRUE(bytes.has_value()) << cls << " " << href << " leads nowhere";
          if (cls == "artifact-link") {
            EXPECT_EQ(bytes->size(), s.size);
          }
          if (cls == "checksums-link") EXPECT_THAT(*bytes, HasSubstr(s.sha256));
          if (cls == "signature-link" || cls == "checksums-signature-link")
            EXPECT_THAT(*bytes, HasSubstr("BEGIN PGP SIGNATURE"));
          if (cls == "provenance-link") EXPECT_THAT(*bytes, HasSubstr("\"" + s.version + "\""));
        }
      }
    }
    EXPECT_EQ(matched, sets.size());
  }

  static PluginHost* host_;
  static test::GpgHome* home_;
  static GpgSigner* signer_;
  static std::string fpr_;
  test::TempDir dir_{"sf-index-html"};
  fs::path config_;
  std::ostringstream out_, err_;
  int sets_ = 0;
  int pages_ = 0;
};
PluginHost* CacheIndexHtml::host_ = nullptr;
test::GpgHome* CacheIndexHtml::home_ = nullptr;
GpgSigner* CacheIndexHtml::signer_ = nullptr;
std::string CacheIndexHtml::fpr_;

TEST_F(CacheIndexHtml, LocalLayerAndS3BucketPagesRenderInChromium) {
  if (chromium_binary().empty())
    SF_REQUIRE_OR_SKIP("chromium is not installed (.ci/packages.txt installs it)");
  test::S3rver server("sf-index");
  ::setenv("XDG_CONFIG_HOME", (dir_ / "xdg").c_str(), 1);
  ::setenv("SLURM_FACTORY_CACHE_DIR", (dir_ / "home").c_str(), 1);
  ::unsetenv("SLURM_FACTORY_PLUGIN_PATH");

  std::vector<Published> sets;
  sets.push_back(make_set("24.11.5", "trixie", {}, true));
  sets.push_back(make_set("24.11.5", "trixie", {"cuda"}, false));  // same directory, no .asc
  sets.push_back(make_set("22.05.11", "bookworm", {}, true));

  const fs::path local = dir_ / "local";
  const std::string public_url = server.endpoint() + "/" + server.bucket() + "/builds";
  config_ = dir_ / "config.yaml";
  std::ofstream(config_) << test::local_and_s3_layers(local, server,
                                                      ", public_url: '" + public_url + "'")
                         << "signing:\n  keyring: '" << home_->path() << "'\n";
  auto local_layer = test::make_layer("local", "local", "file://" + local.string());
  upload_to(*local_layer);
  auto s3_layer = test::make_layer(
      "s3", "site-s3", "s3://" + server.bucket() + "/builds", true,
      {{"endpoint", server.endpoint()}, {"region", "us-east-1"}, {"path_style", true}});
  upload_to(*s3_layer);

  // The local layer: the page at the layer's root, links relative to it.
  ASSERT_EQ(run({"cache", "index", "--layer", "local", "--html", local.string()}), 0)
      << out_.str() << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("3 artifacts of layer 'local'"));
  EXPECT_EQ(err_.str(), "");
  EXPECT_TRUE(fs::exists(local / "style.css"));
  check_page(local / "index.html", sets,
             [&](const std::string& href) -> std::optional<std::string> {
               if (href.find("://") != std::string::npos || href.front() == '/')
                 return std::nullopt;
               const fs::path f = local / href;
               if (!fs::is_regular_file(f)) return std::nullopt;
               return test::read_file(f);
             });

  // The bucket: links under settings.public_url, fetched over HTTP without credentials.
  const fs::path page_dir = dir_ / "s3-page";
  ASSERT_EQ(run({"--json", "cache", "index", "--layer", "site-s3", "--html", page_dir.string()}), 0)
      << out_.str() << err_.str();
  const auto j = nlohmann::json::parse(out_.str());
  EXPECT_EQ(j["artifacts"].size(), 3U);
  EXPECT_EQ(j["base_url"], public_url);
  http::HttpClient client;
  check_page(page_dir / "index.html", sets,
             [&](const std::string& href) -> std::optional<std::string> {
               if (href.rfind(public_url + "/", 0) != 0) return std::nullopt;
               http::Request r;
               r.url = href;
               auto res = client.perform(r);
               if (!res || !res->ok()) return std::nullopt;
               return res->body;
             });

  // --base-url wins over public_url.
  ASSERT_EQ(run({"cache", "index", "--layer", "site-s3", "--html", page_dir.string(), "--base-url",
                 "https://builds.example.org/slurm/"}),
            0)
      << err_.str();
  EXPECT_THAT(test::read_file(page_dir / "index.html"),
              HasSubstr("href=\"https://builds.example.org/slurm/" + sets[0].key + "\""));
}

TEST_F(CacheIndexHtml, NamesTheLayerWhenSeveralAreConfiguredAndRejectsStrayOptions) {
  config_ = dir_ / "config.yaml";
  std::ofstream(config_) << "plugins:\n  search_paths: [" << SF_TEST_PLUGIN_DIR
                         << "]\n  load: [cache-local]\n"
                         << "cache:\n  layers:\n"
                         << "    - {name: local, type: local, url: 'file://"
                         << (dir_ / "a").string() << "'}\n"
                         << "    - {name: other, type: local, url: 'file://"
                         << (dir_ / "b").string() << "'}\n"
                         << "signing:\n  keyring: '" << home_->path() << "'\n";
  EXPECT_NE(run({"cache", "index", "--html", (dir_ / "page").string()}), 0);
  EXPECT_THAT(err_.str(), HasSubstr("--layer NAME"));
  EXPECT_THAT(err_.str(), HasSubstr("local (local), other (local)"));
  EXPECT_NE(run({"cache", "index", "--base-url", "https://x/"}), 0);
  EXPECT_THAT(err_.str(), HasSubstr("go with --html DIR"));
  // An empty layer: a page that says so.
  ASSERT_EQ(run({"cache", "index", "--layer", "other", "--html", (dir_ / "page").string()}), 0)
      << err_.str();
  EXPECT_THAT(test::read_file(dir_ / "page/index.html"), HasSubstr("No published artifacts"));
}

}  // namespace
}  // namespace sf
