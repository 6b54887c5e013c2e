// The rpm packager plugin with package_artifact: a staged view of real ELF files, the tarball and
// rpm plugins loaded from the build tree, rpmbuild and rpmsign for real, the packages read back
// with rpm. The split, the modes, the units, the install root, signatures checked by rpm -K, the
// same bytes for the same tree unsigned, the refusals of bad settings. rpmlint and an install:
// tests/e2e/rpm.sh.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "../support/shell_capture.hpp"
#include "../support/staged_view.hpp"
#include "../support/temp_dir.hpp"
#include "../support/throwaway_signing.hpp"
#include "artifact/artifact_packaging.hpp"
#include "plugin_host/plugin_host.hpp"
#include "slurm_factory/errors.hpp"
#include "support/template_renderer.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

std::pair<int, std::string> sh(const std::string& cmd) {
  return sf::test::capture_status_and_output(cmd);
}

class RpmPackagerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    host_ = new sf::PluginHost();
    host_->load_file(fs::path(SF_TEST_PLUGIN_DIR) / "libsf-packager-tarball.so");
    host_->load_file(fs::path(SF_TEST_PLUGIN_DIR) / "libsf-packager-rpm.so");
  }
  static void TearDownTestSuite() { delete host_; }

  void SetUp() override { dir_ = std::make_unique<sf::test::TempDir>("sf-rpm-packager"); }

  sf::ArtifactPackagingResult pack(const fs::path& staging, const std::string& out,
                                   const sf::GpgSigner* signer,
                                   const nlohmann::json& settings = nlohmann::json::object()) {
    auto tarball = host_->make_packager("tarball", nlohmann::json::object());
    auto rpm = host_->make_packager("rpm", settings);
    sf::ArtifactPackagingRequest req;
    req.info = {"24.11.5", "rockylinux9", "rocky", "Rocky Linux 9", "amd64",
                {},        "/opt/slurm",  "0.1.0"};
    req.staging = staging;
    req.output_dir = dir_->path() / out;
    req.system_libraries = {"libc.so.*", "ld-linux-*.so.*"};
    req.mtime = 1700000000;
    req.system_packages = {{"libc.so.6", "glibc", "2.34-100.el9"}};
    req.signer = signer;
    req.more_packagers = {rpm.get()};
    return sf::package_artifact(req, *tarball,
                                sf::TemplateRenderer(fs::path(SF_TEST_SOURCE_DIR) / "templates"));
  }

  static fs::path rpm_of(const sf::ArtifactPackagingResult& r, const std::string& role) {
    for (const auto& o : r.outputs) {
      if (o.file.filename().string().rfind("slurm-factory-" + role + "-2", 0) == 0) return o.file;
    }
    ADD_FAILURE() << "no " << role << " package";
    return {};
  }

  static sf::PluginHost* host_;
  std::unique_ptr<sf::test::TempDir> dir_;
};
sf::PluginHost* RpmPackagerTest::host_ = nullptr;

}  // namespace

TEST_F(RpmPackagerTest, SplitsSignsAndListsThePackages) {
  sf::test::ThrowawaySigning keys("sf-rpm-key", "rpm packager test <rpm@example.invalid>");
  const auto r = pack(sf::test::make_staged_view(dir_->path(), "stage"), "out", keys.signer.get());
  ASSERT_EQ(r.outputs.size(), 3U);  // common, client, slurmd: the roles the view has files for
  EXPECT_EQ(r.outputs[0].file.filename(), "slurm-factory-common-24.11.5-1.rockylinux9.x86_64.rpm");
  EXPECT_EQ(r.outputs[2].file.filename(), "slurm-factory-slurmd-24.11.5-1.rockylinux9.x86_64.rpm");
  const auto prov = nlohmann::json::parse(sf::test::read_file(r.provenance));
  EXPECT_EQ(prov["outputs"][1]["packager"], "rpm");
  EXPECT_EQ(prov["outputs"][1]["sha256"], r.outputs[0].sha256);

  const auto [rc, files] = sh("rpm -qplv " + rpm_of(r, "slurmd").string());
  ASSERT_EQ(rc, 0) << files;
  EXPECT_THAT(files, HasSubstr(" /opt/slurm/view/sbin/slurmd\n"));
  EXPECT_THAT(files, HasSubstr(" /usr/lib/systemd/system/slurmd.service\n"));
  // RPM wants shared libraries executable; the staged tree keeps its own modes.
  const auto [rc2, common] = sh("rpm -qplv " + rpm_of(r, "common").string());
  EXPECT_THAT(common,
              ::testing::ContainsRegex("-rwxr-xr-x .* /opt/slurm/view/lib/slurm/auth_munge.so"));
  EXPECT_EQ(fs::status(dir_->path() / "stage/view/lib/slurm/auth_munge.so").permissions() &
                fs::perms::owner_exec,
            fs::perms::none);
  EXPECT_THAT(common, HasSubstr(" /opt/slurm/data/slurm_assets/slurm_install.sh\n"));
  const auto [rc3, requires_] = sh("rpm -qp --requires " + rpm_of(r, "common").string());
  EXPECT_THAT(requires_, HasSubstr("libc.so.6()(64bit)\n"));
  EXPECT_THAT(requires_, HasSubstr("munge\n"));

  // rpm -K against the key, in a private database; another database without it says NOKEY.
  const fs::path db = dir_->path() / "rpmdb";
  fs::create_directories(db);
  sf::test::write_file(dir_->path() / "key.asc", keys.signer->export_public_key());
  ASSERT_EQ(
      sh("rpm --dbpath " + db.string() + " --import " + (dir_->path() / "key.asc").string()).first,
      0);
  for (const auto& o : r.outputs) {
    const auto [k, out] = sh("rpm --dbpath " + db.string() + " -K " + o.file.string());
    EXPECT_EQ(k, 0) << out;
    EXPECT_THAT(out, HasSubstr("digests signatures OK"));
  }
  const fs::path empty = dir_->path() / "emptydb";
  fs::create_directories(empty);
  EXPECT_NE(sh("rpm --dbpath " + empty.string() + " -K " + rpm_of(r, "common").string()).first, 0);
}

TEST_F(RpmPackagerTest, UnsignedTheSameTreeGivesTheSameBytes) {
  const fs::path staging = sf::test::make_staged_view(dir_->path(), "stage");
  const auto a = pack(staging, "one", nullptr);
  const auto b = pack(staging, "two", nullptr);
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (std::size_t i = 0; i < a.outputs.size(); ++i) {
    EXPECT_EQ(a.outputs[i].sha256, b.outputs[i].sha256) << a.outputs[i].file;
  }
  EXPECT_THAT(sh("rpm -qpi " + rpm_of(a, "common").string()).second,
              ::testing::ContainsRegex("Signature *: \\(none\\)"));
}

TEST_F(RpmPackagerTest, AnotherInstallRootRewritesTheUnit) {
  const auto r = pack(sf::test::make_staged_view(dir_->path(), "stage"), "out", nullptr,
                      {{"install_root", "/srv/slurm"}, {"revision", "2"}});
  const fs::path slurmd = rpm_of(r, "slurmd");
  EXPECT_EQ(slurmd.filename(), "slurm-factory-slurmd-24.11.5-2.rockylinux9.x86_64.rpm");
  const fs::path x = dir_->path() / "x";
  fs::create_directories(x);
  ASSERT_EQ(
      sh("cd " + x.string() + " && rpm2archive - < " + slurmd.string() + " | tar -xzf -").first, 0);
  EXPECT_THAT(sf::test::read_file(x / "usr/lib/systemd/system/slurmd.service"),
              HasSubstr("ExecStart=/srv/slurm/view/sbin/slurmd "));
  EXPECT_TRUE(fs::exists(x / "srv/slurm/view/sbin/slurmd"));
}

TEST_F(RpmPackagerTest, RefusesBadSettingsNamingTheKey) {
  for (const auto& [settings, key] : std::vector<std::pair<nlohmann::json, std::string>>{
           {{{"revision", "1-2"}}, "packagers.rpm.revision"},
           {{{"maintainer", "%(id) <a@b.c>"}}, "packagers.rpm.maintainer"},
           {{{"compression", "lzma9"}}, "packagers.rpm.compression"},
           {{{"name_prefix", "x y-"}}, "packagers.rpm.name_prefix"}}) {
    try {
      (void)host_->make_packager("rpm", settings);
      ADD_FAILURE() << "accepted " << settings.dump();
    } catch (const sf::ConfigurationError& e) {
      EXPECT_EQ(e.context_value("setting"), key) << settings.dump();
    }
  }
}
