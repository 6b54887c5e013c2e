// The artifact index page: escaping, links, and the page rendered from the real template.
#include "artifact/artifact_index_html.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../support/temp_dir.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

namespace sf {
namespace {

PublishedArtifact sample(const std::string& version, std::vector<std::string> gpu) {
  PublishedArtifact a;
  a.directory = "trixie/" + version + "/amd64";
  a.file = "slurm-" + version + "-trixie-amd64-software.tar.zst";
  a.artifact_key = a.directory + "/" + a.file;
  a.provenance_key = a.directory + "/slurm-" + version + "-trixie-amd64-software.provenance.json";
  a.checksums_key = a.directory + "/SHA256SUMS";
  a.checksums_signature_key = a.directory + "/SHA256SUMS.asc";
  a.slurm_version = version;
  a.toolchain = "trixie";
  a.os_name = "Debian GNU/Linux 13 (trixie)";
  a.arch = "amd64";
  a.gpu = std::move(gpu);
  a.created = "2026-11-29T09:51:45Z";
  a.size = 14657320;
  a.sha256 = std::string(64, 'e');
  return a;
}

TemplateRenderer renderer() { return TemplateRenderer(fs::path(SF_TEST_SOURCE_DIR) / "templates"); }

TEST(ArtifactIndexHtml, EscapesTheFiveCharacters) {
  EXPECT_EQ(html_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(html_escape("24.11.5"), "24.11.5");
}

TEST(ArtifactIndexHtml, LinksAreKeysOrUnderTheBaseUrl) {
  EXPECT_EQ(artifact_href("", "trixie/24.11.5/amd64/x.tar.zst"), "trixie/24.11.5/amd64/x.tar.zst");
  EXPECT_EQ(artifact_href("https://h/p/", "a/b"), "https://h/p/a/b");
  EXPECT_EQ(artifact_href("https://h/p", "a/b"), "https://h/p/a/b");
  EXPECT_EQ(artifact_href("", "a b/c+d#e?"), "a%20b/c%2Bd%23e%3F");
}

TEST(ArtifactIndexHtml, DataHasOneEscapedRowPerArtifact) {
  ArtifactIndexPage page{"Builds <site>", "site-s3", "s3://b/p", "", "2026-11-29T10:00:00Z"};
  auto a = sample("24.11.5", {"cuda"});
  a.signature_key = a.artifact_key + ".asc";
  auto b = sample("22.05.11", {});
  b.os_name = "\"quoted\" & <odd>";
  const auto d = artifact_index_data(page, {a, b});
  EXPECT_EQ(d["title"], "Builds &lt;site&gt;");
  EXPECT_EQ(d["count"], "2");
  ASSERT_EQ(d["artifacts"].size(), 2U);
  EXPECT_EQ(d["artifacts"][0]["gpu"], "cuda");
  EXPECT_EQ(d["artifacts"][0]["size"], "14.0 MiB");
  EXPECT_EQ(d["artifacts"][0]["bytes"], "14657320");
  EXPECT_EQ(d["artifacts"][0]["has_signature"], true);
  EXPECT_EQ(d["artifacts"][0]["signature_href"], a.artifact_key + ".asc");
  EXPECT_EQ(d["artifacts"][1]["gpu"], "none");
  EXPECT_EQ(d["artifacts"][1]["has_signature"], false);
  EXPECT_EQ(d["artifacts"][1]["os_name"], "&quot;quoted&quot; &amp; &lt;odd&gt;");
}

TEST(ArtifactIndexHtml, WritesThePageAndTheStyleSheet) {
  test::TempDir dir("sf-index-html");
  ArtifactIndexPage page{"Slurm builds", "local", "/srv/cache", "https://builds.example.org/slurm",
                         "2026-11-29T10:00:00Z"};
  auto a = sample("24.11.5", {"cuda", "rocm"});
  a.slurm_version = "24.11.5<script>alert(1)</script>";
  a.signature_key = a.artifact_key + ".asc";
  a.signing_key = "DEB82A1EFC0B4A597D7744EB42150F40D3D26997";
  const fs::path index = write_artifact_index(dir / "out", page, {a}, renderer());
  EXPECT_EQ(index, dir / "out/index.html");
  const std::string html = test::read_file(index);
  EXPECT_THAT(html, HasSubstr("<td class=\"version\">24.11.5&lt;script&gt;"));
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, HasSubstr("<td class=\"gpu\">cuda, rocm</td>"));
  EXPECT_THAT(html, HasSubstr("href=\"https://builds.example.org/slurm/" + a.artifact_key + "\""));
  EXPECT_THAT(html, HasSubstr("class=\"signature-link\" href=\"https://builds.example.org/slurm/" +
                              a.artifact_key + ".asc\""));
  EXPECT_THAT(html, HasSubstr("key DEB82A1EFC0B4A597D7744EB42150F40D3D26997"));
  EXPECT_THAT(html, HasSubstr("<link rel=\"stylesheet\" href=\"style.css\">"));
  EXPECT_THAT(html, Not(HasSubstr("{{")));
  EXPECT_EQ(test::read_file(dir / "out/style.css"),
            test::read_file(fs::path(SF_TEST_SOURCE_DIR) / "templates" / kArtifactIndexStyle));
  EXPECT_FALSE(fs::exists(dir / "out/index.html.tmp"));
}

TEST(ArtifactIndexHtml, AnEmptyLayerSaysSo) {
  test::TempDir dir("sf-index-html");
  const fs::path index =
      write_artifact_index(dir.path(), {"Slurm builds", "local", "/x", "", "now"}, {}, renderer());
  const std::string html = test::read_file(index);
  EXPECT_THAT(html, HasSubstr("id=\"no-artifacts\""));
  EXPECT_THAT(html, Not(HasSubstr("<table")));
}

TEST(ArtifactIndexHtml, AnUnwritableFolderNamesIt) {
  test::TempDir dir("sf-index-html");
  test::write_file(dir / "file", "x");
  try {
    write_artifact_index(dir / "file/sub", {"t", "l", "x", "", "now"}, {}, renderer());
    FAIL() << "no error";
  } catch (const PackagingError& e) {
    EXPECT_EQ(e.context_value("folder"), (dir / "file/sub").string());
  }
}

}  // namespace
}  // namespace sf
