// The toolchain catalog: plugin families' releases, site releases from a config (based_on,
// overrides, refusals at file:line:column) and lookups that name the valid releases.
#include "toolchains/toolchain_catalog.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sf_toolchain/apt.hpp"
#include "sf_toolchain/dnf.hpp"
#include "slurm_factory/errors.hpp"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::shared_ptr<const sf::ToolchainFamily> shipped_family(const std::string& family) {
  const std::string path =
      std::string(SF_TEST_SOURCE_DIR) + "/plugins/toolchains/" + family + "/releases.yaml";
  const std::string origin = "toolchain-" + family + "/releases.yaml";
  // As the plugins build them: rocky on the dnf library, ubuntu and debian on the apt one.
  if (family == "rocky") {
    return std::make_shared<sf::DnfToolchainFamily>(family, read_file(path), origin);
  }
  return std::make_shared<sf::AptToolchainFamily>(family, read_file(path), origin);
}

sf::ToolchainCatalog shipped_catalog() {
  sf::ToolchainCatalog catalog;
  for (const char* f : {"ubuntu", "rocky", "debian"}) catalog.add_family(shipped_family(f));
  return catalog;
}

// Site releases as the config hands them over: the `toolchains:` mapping of a YAML file, each
// entry with its family, definition (marks intact) and origin.
std::vector<sf::SiteToolchain> site_releases(const std::string& yaml,
                                             const std::string& file = "site.yaml") {
  const YAML::Node root = YAML::Load(yaml);
  std::vector<sf::SiteToolchain> out;
  for (const auto& kv : root["toolchains"]) {
    sf::SiteToolchain st;
    st.name = kv.first.Scalar();
    st.family = kv.second["family"] ? kv.second["family"].Scalar() : "";
    st.definition = kv.second;
    st.origin = file + ":" + std::to_string(kv.first.Mark().line + 1) + ":" +
                std::to_string(kv.first.Mark().column + 1);
    out.push_back(st);
  }
  return out;
}

// Expects add_site_releases to fail with a ConfigurationError at `location` mentioning `fragment`.
void expect_site_error(const std::string& yaml, const std::string& location,
                       const std::string& fragment) {
  auto catalog = shipped_catalog();
  try {
    catalog.add_site_releases(site_releases(yaml));
    ADD_FAILURE() << "no error for:\n" << yaml;
  } catch (const sf::ConfigurationError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(location + ": ", 0), 0U) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_FALSE(e.remediation().empty());
  }
}

}  // namespace

TEST(ToolchainCatalog, ListsTheEightShippedReleasesByFamily) {
  const auto catalog = shipped_catalog();
  EXPECT_EQ(catalog.names(),
            (std::vector<std::string>{"jammy", "noble", "resolute", "rockylinux8", "rockylinux9",
                                      "rockylinux10", "bookworm", "trixie"}));
  EXPECT_EQ(catalog.family_names(), (std::vector<std::string>{"ubuntu", "rocky", "debian"}));
  EXPECT_EQ(catalog.get("noble").gcc_version, "13.3");
  EXPECT_EQ(catalog.family_of("rockylinux9").name(), "rocky");
  EXPECT_TRUE(catalog.bootstrap_recipe("trixie"));
  EXPECT_FALSE(catalog.bootstrap_recipe("noble"));
  EXPECT_EQ(catalog.setup_script("noble"), sf::apt::render_setup_script(catalog.get("noble")));
  EXPECT_EQ(catalog.setup_script("rockylinux9"),
            sf::dnf::render_setup_script(catalog.get("rockylinux9")));
}

TEST(ToolchainCatalog, UnknownNamesListTheValidOnesAndTheClosest) {
  const auto catalog = shipped_catalog();
  try {
    catalog.get("nobel");
    FAIL() << "no error";
  } catch (const sf::UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("did you mean 'noble'?"), std::string::npos) << what;
    EXPECT_NE(what.find("jammy, noble, resolute, rockylinux8"), std::string::npos) << what;
  }
  try {
    catalog.get("windows95");
    FAIL() << "no error";
  } catch (const sf::UsageError& e) {
    EXPECT_EQ(std::string(e.what()).find("did you mean"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sf::ToolchainCatalog().get("noble"), sf::UsageError);
}

TEST(ToolchainCatalog, AFamilyOrReleaseProvidedTwiceIsRefused) {
  auto catalog = shipped_catalog();
  EXPECT_THROW(catalog.add_family(shipped_family("debian")), sf::PluginError);
  // Another family that reuses a release name.
  const std::string clash =
      "family: other\nreleases:\n  noble: {os_name: X, gcc_version: '1', glibc_version: '2',\n"
      "    base_image: x, build_tools: {compiler: [cc]}}\n";
  EXPECT_THROW(
      catalog.add_family(std::make_shared<sf::DataDrivenToolchainFamily>("other", clash, "o.yaml")),
      sf::PluginError);
}

TEST(ToolchainCatalog, SiteReleaseBasedOnAShippedOneOverridesItsFields) {
  auto catalog = shipped_catalog();
  catalog.add_site_releases(
      site_releases("toolchains:\n"
                    "  noble-site:\n"
                    "    family: ubuntu\n"
                    "    based_on: noble\n"
                    "    base_image: registry.example.org/mirror/ubuntu:24.04\n"
                    "    dev_packages:\n"
                    "      infiniband: [libibverbs-dev]\n"
                    "  trixie-site:\n"
                    "    family: debian\n"
                    "    based_on: trixie\n"
                    "    quirks: [\"echo site quirk\"]\n"));
  ASSERT_EQ(catalog.names().size(), 10U);
  const auto& r = catalog.get("noble-site");
  EXPECT_EQ(r.family, "ubuntu");
  EXPECT_EQ(r.base_image, "registry.example.org/mirror/ubuntu:24.04");
  EXPECT_EQ(r.gcc_version, "13.3");
  EXPECT_EQ(r.dev_packages.at("munge"), std::vector<std::string>{"libmunge-dev"});
  EXPECT_EQ(r.dev_packages.at("infiniband"), std::vector<std::string>{"libibverbs-dev"});
  EXPECT_EQ(r.origin, "site.yaml:2:3");
  EXPECT_EQ(&catalog.family_of("noble-site"), &catalog.family_of("noble"));
  const std::string script = catalog.setup_script("trixie-site");
  EXPECT_NE(script.find("echo site quirk\n"), std::string::npos);
  EXPECT_EQ(script.find("libibverbs-dev"), std::string::npos) << "only noble-site added it";
  EXPECT_TRUE(catalog.bootstrap_recipe("trixie-site")) << "inherits trixie's bootstrap";
  // A site release may build on an earlier site release.
  catalog.add_site_releases(site_releases(
      "toolchains:\n  noble-site2: {family: ubuntu, based_on: noble-site, arch: arm64}\n"));
  EXPECT_EQ(catalog.get("noble-site2").base_image, "registry.example.org/mirror/ubuntu:24.04");
  EXPECT_EQ(catalog.get("noble-site2").arch, "arm64");
}

TEST(ToolchainCatalog, SiteReleaseWithoutBaseStartsFromTheFamilyDefaults) {
  auto catalog = shipped_catalog();
  catalog.add_site_releases(
      site_releases("toolchains:\n"
                    "  forky:\n"
                    "    family: debian\n"
                    "    os_name: Debian GNU/Linux 14 (forky)\n"
                    "    gcc_version: \"15.2\"\n"
                    "    glibc_version: \"2.42\"\n"
                    "    base_image: docker.io/library/debian:forky\n"));
  const auto& r = catalog.get("forky");
  EXPECT_EQ(r.package_manager, sf::PackageManager::kApt);
  EXPECT_EQ(r.dev_packages.at("pmix"), std::vector<std::string>{"libpmix-dev"});
  EXPECT_EQ(r.build_tools.at("compiler"), (std::vector<std::string>{"gcc", "g++", "libc6-dev"}));
  EXPECT_FALSE(r.bootstrap) << "bootstrap is per release, not a family default";
}

TEST(ToolchainCatalog, SiteReleaseErrorsPointAtTheConfigFile) {
  // Unknown family: at the family value, naming the loaded ones and the plugin to load.
  expect_site_error("toolchains:\n  sles15:\n    family: suse\n    os_name: SLES\n",
                    "site.yaml:3:13", "family 'suse', which no loaded plugin provides");
  // Unknown key in the release.
  expect_site_error("toolchains:\n  x:\n    family: debian\n    based_on: trixie\n    gcc: '1'\n",
                    "site.yaml:5:5", "unknown key 'gcc'");
  // The name of a shipped release.
  expect_site_error("toolchains:\n  noble:\n    family: ubuntu\n    base_image: x\n",
                    "site.yaml:3:5", "has the name of an existing release");
  // An unknown base.
  expect_site_error("toolchains:\n  x:\n    family: ubuntu\n    based_on: nobel\n",
                    "site.yaml:4:15", "based on unknown release 'nobel'");
  // A base of another family.
  expect_site_error("toolchains:\n  x:\n    family: rocky\n    based_on: noble\n", "site.yaml:3:13",
                    "is based on 'noble' of family 'ubuntu'");
  // Incomplete without a base.
  expect_site_error("toolchains:\n  x:\n    family: debian\n    os_name: X\n", "site.yaml:3:5",
                    "has no gcc_version");
}

TEST(ToolchainCatalog, SiteReleaseWithoutMarksIsLocatedByItsOrigin) {
  auto catalog = shipped_catalog();
  sf::SiteToolchain st;
  st.name = "lost";
  st.family = "nowhere";
  st.definition = YAML::Node(YAML::NodeType::Map);  // built in memory: no marks
  st.definition["family"] = "nowhere";
  st.origin = "/etc/slurm-factory/config.yaml:7:3";
  try {
    catalog.add_site_releases({st});
    FAIL() << "no error";
  } catch (const sf::ConfigurationError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("/etc/slurm-factory/config.yaml:7:3: ", 0), 0U)
        << e.what();
  }
}
