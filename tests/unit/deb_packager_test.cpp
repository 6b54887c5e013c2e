// The deb packager plugin with package_artifact: a staged view of real ELF files built here, the
// tarball and deb plugins loaded from the build tree, the packages read back with dpkg-deb (the
// real tool). The split, the modes, the units, the install root, reproducibility, the outputs in
// provenance.json, and the refusals of bad settings and names. apt, lintian and a cluster from the
// packages: tests/e2e/deb.sh.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "../support/shell_capture.hpp"
#include "../support/staged_view.hpp"
#include "../support/temp_dir.hpp"
#include "artifact/artifact_packaging.hpp"
#include "plugin_host/plugin_host.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/packager.hpp"
#include "support/template_renderer.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }
std::string out_of(const std::string& cmd) {
  return sf::test::capture_status_and_output(cmd).second;
}

class DebPackagerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    host_ = new sf::PluginHost();
    host_->load_file(fs::path(SF_TEST_PLUGIN_DIR) / "libsf-packager-tarball.so");
    host_->load_file(fs::path(SF_TEST_PLUGIN_DIR) / "libsf-packager-deb.so");
  }
  static void TearDownTestSuite() { delete host_; }

  void SetUp() override { dir_ = std::make_unique<sf::test::TempDir>("sf-deb-packager"); }

  fs::path stage(const std::string& name) { return sf::test::make_staged_view(dir_->path(), name); }

  sf::ArtifactPackagingResult pack(const fs::path& staging, const std::string& out,
                                   const nlohmann::json& deb_settings = nlohmann::json::object()) {
    auto tarball = host_->make_packager("tarball", nlohmann::json::object());
    auto deb = host_->make_packager("deb", deb_settings);
    sf::ArtifactPackagingRequest req;
    req.info = {"24.11.5", "trixie", "debian",     "Debian GNU/Linux 13 (trixie)",
                "amd64",   {},       "/opt/slurm", "0.1.0"};
    req.staging = staging;
    req.output_dir = dir_->path() / out;
    req.system_libraries = {"libc.so.*", "ld-linux-*.so.*"};
    req.mtime = 1700000000;
    req.os_version = "13";
    req.system_packages = {{"libc.so.6", "libc6", "2.41-12"}};
    req.more_packagers = {deb.get()};
    return sf::package_artifact(req, *tarball,
                                sf::TemplateRenderer(fs::path(SF_TEST_SOURCE_DIR) / "templates"));
  }

  fs::path deb_of(const sf::ArtifactPackagingResult& r, const std::string& role) {
    for (const auto& o : r.outputs) {
      if (o.file.filename().string().rfind("slurm-factory-" + role + "_", 0) == 0) return o.file;
    }
    ADD_FAILURE() << "no " << role << " package";
    return {};
  }

  static sf::PluginHost* host_;
  std::unique_ptr<sf::test::TempDir> dir_;
};
sf::PluginHost* DebPackagerTest::host_ = nullptr;

}  // namespace

TEST_F(DebPackagerTest, SplitsTheViewIntoPackagesListedInProvenance) {
  const auto r = pack(stage("stage"), "out");
  // Only the roles the view has files for: no slurmctld, slurmdbd, slurmrestd or dev here.
  ASSERT_EQ(r.outputs.size(), 3U);
  EXPECT_EQ(r.outputs[0].file.filename(), "slurm-factory-common_24.11.5-1+trixie_amd64.deb");
  EXPECT_EQ(r.outputs[1].file.filename(), "slurm-factory-client_24.11.5-1+trixie_amd64.deb");
  EXPECT_EQ(r.outputs[2].file.filename(), "slurm-factory-slurmd_24.11.5-1+trixie_amd64.deb");
  const auto prov = nlohmann::json::parse(sf::test::read_file(r.provenance));
  ASSERT_EQ(prov["outputs"].size(), 4U);
  EXPECT_EQ(prov["outputs"][0]["packager"], "tarball");
  EXPECT_EQ(prov["outputs"][1]["packager"], "deb");
  EXPECT_EQ(prov["outputs"][1]["sha256"], r.outputs[0].sha256);
  const std::string sums = sf::test::read_file(r.checksums);
  for (const auto& o : r.outputs) {
    EXPECT_THAT(sums, HasSubstr(o.sha256 + "  " + o.file.filename().string()));
  }
  EXPECT_EQ(run("cd " + r.artifact.parent_path().string() + " && sha256sum -c --quiet SHA256SUMS"),
            0);

  const std::string slurmd = out_of("dpkg-deb --contents " + deb_of(r, "slurmd").string());
  EXPECT_THAT(slurmd, HasSubstr(" opt/slurm/view/sbin/slurmd\n"));
  EXPECT_THAT(slurmd, HasSubstr(" opt/slurm/view/sbin/slurmstepd\n"));
  EXPECT_THAT(slurmd, HasSubstr(" usr/lib/systemd/system/slurmd.service\n"));
  EXPECT_THAT(out_of("dpkg-deb --field " + deb_of(r, "slurmd").string() + " Depends"),
              HasSubstr("slurm-factory-common (= 24.11.5-1+trixie), libc6 (>= 2.41)"));
  const std::string common = out_of("dpkg-deb --contents " + deb_of(r, "common").string());
  // A shared library is not a program in the package; the staged tree keeps its mode.
  EXPECT_THAT(common, HasSubstr("-rw-r--r-- 0/0"));
  EXPECT_THAT(common, ::testing::ContainsRegex("-rw-r--r-- 0/0 +[0-9]+ [0-9-]+ [0-9:]+ "
                                               "opt/slurm/view/lib/libslurm.so.42"));
  EXPECT_TRUE((fs::status(dir_->path() / "stage/view/lib/libslurm.so.42").permissions() &
               fs::perms::owner_exec) != fs::perms::none);
  EXPECT_THAT(common, HasSubstr(" usr/share/doc/slurm-factory-common/changelog.Debian.gz\n"));
  EXPECT_THAT(common, HasSubstr(" usr/share/lintian/overrides/slurm-factory-common\n"));
  EXPECT_THAT(out_of("dpkg-deb --field " + deb_of(r, "common").string() + " Depends"),
              HasSubstr("libc6 (>= 2.41), munge"));
  const std::string client = out_of("dpkg-deb --contents " + deb_of(r, "client").string());
  EXPECT_THAT(client, HasSubstr(" etc/profile.d/slurm-factory-client.sh\n"));
  EXPECT_THAT(out_of("dpkg-deb --info " + deb_of(r, "client").string()), HasSubstr("conffiles"));
}

TEST_F(DebPackagerTest, TheSameTreeGivesTheSameBytes) {
  const fs::path staging = stage("stage");
  const auto a = pack(staging, "one");
  const auto b = pack(staging, "two");
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (std::size_t i = 0; i < a.outputs.size(); ++i) {
    EXPECT_EQ(a.outputs[i].sha256, b.outputs[i].sha256) << a.outputs[i].file;
  }
}

TEST_F(DebPackagerTest, AnotherInstallRootRewritesUnitsAndPaths) {
  const auto r = pack(stage("stage"), "out", {{"install_root", "/srv/hpc/slurm"}, {"revision", 3}});
  const fs::path slurmd = deb_of(r, "slurmd");
  EXPECT_EQ(slurmd.filename(), "slurm-factory-slurmd_24.11.5-3+trixie_amd64.deb");
  EXPECT_THAT(out_of("dpkg-deb --contents " + slurmd.string()),
              HasSubstr(" srv/hpc/slurm/view/sbin/slurmd\n"));
  const fs::path x = dir_->path() / "x";
  ASSERT_EQ(run("dpkg-deb -x " + slurmd.string() + " " + x.string()), 0);
  const std::string unit = sf::test::read_file(x / "usr/lib/systemd/system/slurmd.service");
  EXPECT_THAT(unit, HasSubstr("ExecStart=/srv/hpc/slurm/view/sbin/slurmd "));
  EXPECT_THAT(unit, ::testing::Not(HasSubstr("/opt/slurm/")));
  ASSERT_EQ(run("dpkg-deb -x " + deb_of(r, "common").string() + " " + x.string()), 0);
  EXPECT_EQ(sf::test::read_file(x / "srv/hpc/slurm/data/slurm_assets/installed-prefix"),
            "/srv/hpc/slurm\n");
  EXPECT_THAT(out_of("dpkg-deb --info " + deb_of(r, "common").string() + " postinst"),
              HasSubstr("ROOT=/srv/hpc/slurm"));
}

TEST_F(DebPackagerTest, RefusesBadSettingsNamingTheKey) {
  const std::vector<std::pair<nlohmann::json, std::string>> bad{
      {{{"name_prefix", "Slurm_"}}, "packagers.deb.name_prefix"},
      {{{"install_root", "/opt/../etc"}}, "packagers.deb.install_root"},
      {{{"install_root", "relative"}}, "packagers.deb.install_root"},
      {{{"revision", "1\nX: y"}}, "packagers.deb.revision"},
      {{{"maintainer", "a <b@c>\nDepends: evil"}}, "packagers.deb.maintainer"},
      {{{"compression", "bzip3"}}, "packagers.deb.compression"},
      {{{"revisoin", "2"}}, "packagers.deb.revisoin"},
  };
  for (const auto& [settings, key] : bad) {
    try {
      (void)host_->make_packager("deb", settings);
      ADD_FAILURE() << "accepted " << settings.dump();
    } catch (const sf::ConfigurationError& e) {
      EXPECT_EQ(e.context_value("setting"), key) << settings.dump();
    }
  }
}

TEST_F(DebPackagerTest, RefusesAFileNameWithANewline) {
  const fs::path staging = stage("stage");
  sf::test::write_file(staging / "view/share/doc/bad\nname", "x");
  EXPECT_THROW(pack(staging, "out"), sf::PackagingError);
}
