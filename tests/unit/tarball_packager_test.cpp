// The tarball packager plugin with package_artifact and verify: real ELF files built here, a real
// throwaway GPG key, the plugin loaded from the build tree. Same tree twice: same bytes; verify
// passes (and --deep); one flipped byte fails naming the file; an absolute RUNPATH fails --deep
// naming the ELF (library and CLI).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "../support/gpg_home.hpp"
#include "../support/shell_capture.hpp"
#include "artifact/artifact_packaging.hpp"
#include "artifact/artifact_verifier.hpp"
#include "formats/archive_reader.hpp"
#include "plugin_host/plugin_host.hpp"
#include "signing/gpg_signer.hpp"
#include "slurm_factory/packager.hpp"
#include "support/template_renderer.hpp"

namespace fs = std::filesystem;

namespace {

int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

std::pair<int, std::string> capture(const std::string& cmd) {
  return sf::test::capture_status_and_output(cmd);
}

bool has_problem(const sf::VerifyReport& r, const std::string& file, const std::string& text) {
  for (const auto& p : r.problems)
    if (p.file == file && p.problem.find(text) != std::string::npos) return true;
  return false;
}

class TarballPackagerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    host_ = new sf::PluginHost();
    host_->load_file(fs::path(SF_TEST_PLUGIN_DIR) / "libsf-packager-tarball.so");
    home_ = new sf::test::GpgHome();
    fpr_ = sf::GpgSigner::generate_key(home_->path(), "Artifact Test <artifact@example.invalid>");
    signer_ = new sf::GpgSigner({home_->path(), fpr_, {}, {}, {}, {}});
  }
  static void TearDownTestSuite() {
    delete signer_;
    delete home_;
    delete host_;
  }

  void SetUp() override {
    dir_ = std::make_unique<sf::test::TempDir>("sf-tarball");
    info_ = {"24.11.5", "bookworm", "debian", "Debian 12", "amd64", {}, "/opt/slurm", "0.1.0"};
  }

  // A staged view: bin/sinfo needs lib/libslurm.so.42 through RUNPATH $ORIGIN/../lib.
  fs::path stage(const std::string& name, const std::string& runpath = "$ORIGIN/../lib",
                 const std::string& extra_lib = "") {
    const fs::path root = dir_->path() / name;
    const fs::path view = root / "view";
    fs::create_directories(view / "bin");
    fs::create_directories(view / "lib/slurm");
    fs::create_directories(view / "share/doc");
    const std::string src = (dir_->path() / "src").string();
    fs::create_directories(src);
    sf::test::write_file(src + "/lib.c", "int slurm_api(void) { return 0; }\n");
    sf::test::write_file(src + "/main.c",
                         "int slurm_api(void);\nint main(void){return slurm_api();}\n");
    EXPECT_EQ(run("cc -shared -fPIC -Wl,-soname,libslurm.so.42 -o " + view.string() +
                  "/lib/libslurm.so.42 " + src + "/lib.c"),
              0);
    std::string link = "cc -o " + view.string() + "/bin/sinfo " + src + "/main.c -L" +
                       view.string() + "/lib -l:libslurm.so.42";
    if (!extra_lib.empty()) {
      EXPECT_EQ(run("cc -shared -fPIC -Wl,-soname," + extra_lib + " -o " + src + "/" + extra_lib +
                    " " + src + "/lib.c"),
                0);
      link += " -Wl,--no-as-needed -L" + src + " -l:" + extra_lib;
    }
    EXPECT_EQ(
        run(link + " && patchelf --set-rpath '" + runpath + "' " + view.string() + "/bin/sinfo"),
        0);
    EXPECT_EQ(run("cp " + view.string() + "/lib/libslurm.so.42 " + view.string() +
                  "/lib/slurm/auth_munge.so && patchelf --set-rpath '$ORIGIN/..' " + view.string() +
                  "/lib/slurm/auth_munge.so"),
              0);
    sf::test::write_file(view / "share/doc/README", "Slurm\n");
    return root;
  }

  sf::ArtifactPackagingResult pack(const fs::path& staging, const std::string& out,
                                   const nlohmann::json& settings = nlohmann::json::object()) {
    auto packager = host_->make_packager("tarball", settings);
    sf::ArtifactPackagingRequest req;
    req.info = info_;
    req.staging = staging;
    req.output_dir = dir_->path() / out;
    req.system_libraries = {"libc.so.*", "ld-linux-*.so.*"};
    req.mtime = 1700000000;
    req.signer = signer_;
    req.provenance = {{"packages", {{{"name", "slurm"}, {"version", "24.11.5"}}}}};
    return sf::package_artifact(req, *packager,
                                sf::TemplateRenderer(fs::path(SF_TEST_SOURCE_DIR) / "templates"));
  }

  sf::VerifyOptions verify_options(bool deep) const {
    sf::VerifyOptions o;
    o.deep = deep;
    o.trust.gnupg_home = home_->path();
    return o;
  }

  static sf::PluginHost* host_;
  static sf::test::GpgHome* home_;
  static sf::GpgSigner* signer_;
  static std::string fpr_;
  std::unique_ptr<sf::test::TempDir> dir_;
  sf::ArtifactInfo info_;
};
sf::PluginHost* TarballPackagerTest::host_ = nullptr;
sf::test::GpgHome* TarballPackagerTest::home_ = nullptr;
sf::GpgSigner* TarballPackagerTest::signer_ = nullptr;
std::string TarballPackagerTest::fpr_;

}  // namespace

TEST_F(TarballPackagerTest, SameTreeTwiceGivesTheSameBytes) {
  const fs::path staging = stage("stage");
  const auto a = pack(staging, "out1");
  const auto b = pack(staging, "out2");
  EXPECT_EQ(a.artifact.filename(), "slurm-24.11.5-bookworm-amd64-software.tar.zst");
  EXPECT_EQ(sf::test::read_file(a.artifact), sf::test::read_file(b.artifact));
  EXPECT_TRUE(fs::exists(a.provenance));
  EXPECT_TRUE(fs::exists(a.artifact.parent_path() / "SHA256SUMS.asc"));
  EXPECT_EQ(a.signature,
            a.artifact.parent_path() / "slurm-24.11.5-bookworm-amd64-software.tar.zst.asc");
  EXPECT_NE(sf::test::read_file(a.signature).find("BEGIN PGP SIGNATURE"), std::string::npos);
}

TEST_F(TarballPackagerTest, LayoutHasViewModulesAndAssets) {
  const auto r = pack(stage("stage"), "out");
  auto index = sf::read_archive_index(r.artifact);
  ASSERT_TRUE(index) << index.error().message;
  std::set<std::string> paths;
  for (const auto& e : *index) paths.insert(e.path);
  for (const char* p :
       {"view/bin/sinfo", "view/lib/libslurm.so.42", "modules/slurm/24.11.5-bookworm.lua",
        "modules/slurm/24.11.5-bookworm.tcl", "data/slurm_assets/slurm_install.sh",
        "data/slurm_assets/defaults/slurmd.service", "data/slurm_assets/slurm/slurm.conf.template",
        "data/slurm_assets/mysql/slurm_acct_db.sql"}) {
    EXPECT_EQ(paths.count(p), 1u) << p;
  }
  EXPECT_TRUE(std::is_sorted(index->begin(), index->end(),
                             [](const auto& x, const auto& y) { return x.path < y.path; }));
  const auto prov = nlohmann::json::parse(sf::test::read_file(r.provenance));
  EXPECT_EQ(prov["artifact"], r.artifact.filename().string());
  EXPECT_EQ(prov["toolchain"]["system_libraries"][0], "libc.so.*");
  EXPECT_EQ(prov["signing_key"], fpr_);
  EXPECT_TRUE(prov["compiled_paths"].is_array());
}

TEST_F(TarballPackagerTest, GzipOptionWritesTarGz) {
  const auto r = pack(stage("stage"), "out", {{"compression", "gzip"}});
  EXPECT_EQ(r.artifact.filename(), "slurm-24.11.5-bookworm-amd64-software.tar.gz");
  const auto report = sf::verify_artifact(r.artifact, verify_options(true));
  EXPECT_TRUE(report.ok()) << sf::format_problem_table(report.problems);
}

TEST_F(TarballPackagerTest, VerifyAcceptsAGoodArtifactDeepToo) {
  const auto r = pack(stage("stage"), "out");
  auto report = sf::verify_artifact(r.artifact, verify_options(false));
  EXPECT_TRUE(report.ok()) << sf::format_problem_table(report.problems);
  EXPECT_EQ(report.signer, fpr_);
  report = sf::verify_artifact(r.artifact, verify_options(true));
  EXPECT_TRUE(report.ok()) << sf::format_problem_table(report.problems);
  EXPECT_GE(report.elf_checked, 3u);
}

TEST_F(TarballPackagerTest, OneFlippedByteFailsNamingTheFile) {
  const auto r = pack(stage("stage"), "out");
  {
    std::fstream f(r.artifact, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(200);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x01);
    f.seekp(200);
    f.write(&c, 1);
  }
  const auto report = sf::verify_artifact(r.artifact, verify_options(false));
  EXPECT_FALSE(report.ok());
  const std::string name = r.artifact.filename().string();
  EXPECT_TRUE(has_problem(report, name, "sha256 mismatch"))
      << sf::format_problem_table(report.problems);
  EXPECT_TRUE(has_problem(report, name + ".asc", "signature of " + name + " does not verify"))
      << sf::format_problem_table(report.problems);
}

TEST_F(TarballPackagerTest, ArtifactSignatureIsCheckedAndNamedWhenItFails) {
  const auto r = pack(stage("stage"), "out");
  const std::string name = r.artifact.filename().string();
  auto report = sf::verify_artifact(r.artifact, verify_options(false));
  EXPECT_TRUE(report.ok()) << sf::format_problem_table(report.problems);
  // The .asc of another artifact (same signer, other bytes): only the artifact's own signature
  // fails, and the report names that file.
  const auto other = pack(stage("other", "$ORIGIN/../lib/slurm/../"), "other");
  fs::copy_file(other.signature, r.signature, fs::copy_options::overwrite_existing);
  report = sf::verify_artifact(r.artifact, verify_options(false));
  ASSERT_EQ(report.problems.size(), 1u) << sf::format_problem_table(report.problems);
  EXPECT_EQ(report.problems[0].file, name + ".asc");
  EXPECT_NE(report.problems[0].problem.find("does not verify"), std::string::npos);
  // The CLI prints the table with that file and fails.
  const auto [rc, out] =
      capture(std::string(SF_TEST_BINARY_DIR) + "/bin/slurm-factory verify --keyring " +
              home_->path() + " " + r.artifact.string());
  EXPECT_EQ(rc, 11) << out;
  EXPECT_NE(out.find(name + ".asc"), std::string::npos) << out;
  // Without its own .asc (an older artifact) SHA256SUMS.asc alone still verifies it.
  fs::remove(r.signature);
  report = sf::verify_artifact(r.artifact, verify_options(false));
  EXPECT_TRUE(report.ok()) << sf::format_problem_table(report.problems);
  // Packaging unsigned removes a stale .asc of the same name.
  fs::copy_file(other.signature, r.signature);
  auto packager = host_->make_packager("tarball", nlohmann::json::object());
  sf::ArtifactPackagingRequest req;
  req.info = info_;
  req.staging = stage("stage");
  req.output_dir = r.artifact.parent_path();
  req.mtime = 1700000000;
  const auto u = sf::package_artifact(
      req, *packager, sf::TemplateRenderer(fs::path(SF_TEST_SOURCE_DIR) / "templates"));
  EXPECT_TRUE(u.signature.empty());
  EXPECT_FALSE(fs::exists(r.signature));
}

TEST_F(TarballPackagerTest, RewrittenChecksumsFailTheSignature) {
  const auto r = pack(stage("stage"), "out");
  const fs::path sums = r.artifact.parent_path() / "SHA256SUMS";
  std::string text = sf::test::read_file(sums);
  text[0] = text[0] == 'a' ? 'b' : 'a';
  sf::test::write_file(sums, text);
  const auto report = sf::verify_artifact(r.artifact, verify_options(false));
  EXPECT_TRUE(has_problem(report, "SHA256SUMS.asc", "bad signature"))
      << sf::format_problem_table(report.problems);
}

TEST_F(TarballPackagerTest, AbsoluteRunpathFailsDeepVerifyNamingTheElf) {
  const auto r = pack(stage("stage", "/build/slurm/lib"), "out");
  auto report = sf::verify_artifact(r.artifact, verify_options(false));
  EXPECT_TRUE(report.ok()) << "signature and checksums are fine";
  report = sf::verify_artifact(r.artifact, verify_options(true));
  EXPECT_TRUE(has_problem(report, "view/bin/sinfo", "absolute RUNPATH /build/slurm/lib"))
      << sf::format_problem_table(report.problems);

  // The CLI: a table naming the ELF and exit code 11.
  const auto [rc, out] =
      capture(std::string(SF_TEST_BINARY_DIR) + "/bin/slurm-factory verify --deep --keyring " +
              home_->path() + " " + r.artifact.string());
  EXPECT_EQ(rc, 11) << out;
  EXPECT_NE(out.find("view/bin/sinfo"), std::string::npos) << out;
  EXPECT_NE(out.find("absolute RUNPATH /build/slurm/lib"), std::string::npos) << out;
}

TEST_F(TarballPackagerTest, MissingLibraryFailsDeepVerify) {
  const auto r = pack(stage("stage", "$ORIGIN/../lib", "libnowhere.so.3"), "out");
  const auto report = sf::verify_artifact(r.artifact, verify_options(true));
  EXPECT_TRUE(has_problem(report, "view/bin/sinfo", "NEEDED libnowhere.so.3 not found"))
      << sf::format_problem_table(report.problems);
}

// Issue 12 item 14: a view with a setuid root program and a world-writable file is packaged with
// 0755 / 0644 (owner 0/0 as always), and provenance.json records one warning per reset file. Its
// "contents" (entries, bytes) match the archive: the caps `verify --deep` unpacks under.
TEST_F(TarballPackagerTest, SetuidAndWorldWritableFilesAreResetWithAWarningInProvenance) {
  const fs::path staging = stage("stage");
  ASSERT_EQ(::chown((staging / "view/bin/sinfo").c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod((staging / "view/bin/sinfo").c_str(), 04755), 0);
  ASSERT_EQ(::chmod((staging / "view/share/doc/README").c_str(), 0666), 0);
  const auto r = pack(staging, "out");
  auto index = sf::read_archive_index(r.artifact);
  ASSERT_TRUE(index) << index.error().message;
  std::map<std::string, std::uint32_t> modes;
  std::uint64_t bytes = 0;
  for (const auto& e : *index) {
    modes[e.path] = e.mode;
    bytes += e.size;
  }
  EXPECT_EQ(modes.at("view/bin/sinfo"), 0755u);
  EXPECT_EQ(modes.at("view/share/doc/README"), 0644u);
  const auto prov = nlohmann::json::parse(sf::test::read_file(r.provenance));
  ASSERT_TRUE(prov.contains("warnings")) << prov.dump(2);
  const std::string warnings = prov["warnings"].dump();
  EXPECT_NE(warnings.find("view/bin/sinfo: mode 4755 (setuid) packaged as 0755"), std::string::npos)
      << warnings;
  EXPECT_NE(warnings.find("view/share/doc/README: mode 0666 (world-writable) packaged as 0644"),
            std::string::npos)
      << warnings;
  EXPECT_EQ(prov["warnings"].size(), 2u) << warnings;
  EXPECT_EQ(prov["contents"]["entries"].get<std::uint64_t>(), index->size());
  EXPECT_EQ(prov["contents"]["bytes"].get<std::uint64_t>(), bytes);
  // The staged tree itself is left as it was (the packager changes only what it writes).
  EXPECT_EQ(fs::status(staging / "view/bin/sinfo").permissions() & fs::perms::set_uid,
            fs::perms::set_uid);
  // And the artifact verifies, deep too, under the caps its provenance declares.
  const auto report = sf::verify_artifact(r.artifact, verify_options(true));
  EXPECT_TRUE(report.ok()) << sf::format_problem_table(report.problems);
}

TEST_F(TarballPackagerTest, UnsignedArtifactFailsVerify) {
  const auto r = pack(stage("stage"), "out");
  fs::remove(r.artifact.parent_path() / "SHA256SUMS.asc");
  const auto report = sf::verify_artifact(r.artifact, verify_options(false));
  EXPECT_TRUE(has_problem(report, "SHA256SUMS.asc", "missing"));
}
