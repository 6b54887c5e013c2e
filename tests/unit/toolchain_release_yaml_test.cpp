// Release YAML: the shipped releases.yaml files, merging, and refusals at file:line:column.
#include "toolchains/toolchain_release_yaml.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "slurm_factory/errors.hpp"
#include "slurm_factory/toolchain.hpp"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<sf::ToolchainRelease> shipped(const std::string& family) {
  const std::string path =
      std::string(SF_TEST_SOURCE_DIR) + "/plugins/toolchains/" + family + "/releases.yaml";
  return sf::parse_toolchain_releases(read_file(path), path);
}

// Expects parsing `yaml` to fail with a ConfigurationError whose message starts with `location`
// and contains `fragment`; returns the error's key path.
std::string expect_error(const std::string& yaml, const std::string& location,
                         const std::string& fragment) {
  try {
    sf::parse_toolchain_releases(yaml, "test.yaml");
  } catch (const sf::ConfigurationError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(location + ": ", 0), 0U) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
    EXPECT_FALSE(e.remediation().empty()) << what;
    EXPECT_EQ(e.context_value("location"), location);
    return e.context_value("key");
  }
  ADD_FAILURE() << "no ConfigurationError for:\n" << yaml;
  return {};
}

const char* kMinimal =
    "family: demo\n"
    "defaults:\n"
    "  package_manager: apt\n"
    "  build_tools:\n"
    "    compiler: [gcc, g++]\n"
    "    pkg-config: [pkgconf]\n"
    "releases:\n"
    "  one:\n"
    "    os_name: Demo 1\n"
    "    gcc_version: \"12.2\"\n"
    "    glibc_version: \"2.36\"\n"
    "    base_image: example/demo:1\n"
    "    build_tools:\n"
    "      pkg-config: [pkg-config]\n";

}  // namespace

TEST(ToolchainReleaseYaml, ShippedReleasesCarryTheIssueValues) {
  struct Expected {
    const char* family;
    const char* name;
    const char* gcc;
    const char* glibc;
    const char* image;
    sf::PackageManager pm;
  };
  const std::vector<Expected> expected = {
      {"ubuntu", "jammy", "11.4", "2.35", "docker.io/library/ubuntu:22.04",
       sf::PackageManager::kApt},
      {"ubuntu", "noble", "13.3", "2.39", "docker.io/library/ubuntu:24.04",
       sf::PackageManager::kApt},
      {"ubuntu", "resolute", "15.2", "2.42", "docker.io/library/ubuntu:26.04",
       sf::PackageManager::kApt},
      {"rocky", "rockylinux8", "8.5", "2.28", "docker.io/rockylinux/rockylinux:8",
       sf::PackageManager::kDnf},
      {"rocky", "rockylinux9", "11.5", "2.34", "docker.io/rockylinux/rockylinux:9",
       sf::PackageManager::kDnf},
      {"rocky", "rockylinux10", "14.3", "2.39", "docker.io/rockylinux/rockylinux:10",
       sf::PackageManager::kDnf},
      {"debian", "bookworm", "12.2", "2.36", "docker.io/library/debian:bookworm",
       sf::PackageManager::kApt},
      {"debian", "trixie", "14.2", "2.41", "docker.io/library/debian:trixie",
       sf::PackageManager::kApt},
  };
  for (const auto& e : expected) {
    const auto releases = shipped(e.family);
    auto it = std::find_if(releases.begin(), releases.end(),
                           [&](const auto& r) { return r.name == e.name; });
    ASSERT_NE(it, releases.end()) << e.name;
    EXPECT_EQ(it->family, e.family);
    EXPECT_EQ(it->gcc_version, e.gcc) << e.name;
    EXPECT_EQ(it->glibc_version, e.glibc) << e.name;
    EXPECT_EQ(it->base_image, e.image) << e.name;
    EXPECT_EQ(it->package_manager, e.pm) << e.name;
    EXPECT_FALSE(it->os_name.empty());
    // Every Slurm feature library has a -dev package, every release the same logical names.
    for (const char* lib :
         {"munge", "json-c", "yaml", "jwt", "http-parser", "lz4", "hwloc", "pmix", "curl", "ssl",
          "pam", "dbus", "readline", "lua", "mysql", "numa", "rdkafka"}) {
      ASSERT_TRUE(it->dev_packages.count(lib)) << e.name << " lacks " << lib;
      EXPECT_FALSE(it->dev_packages.at(lib).empty()) << e.name << " " << lib;
    }
    for (const char* tool : {"compiler", "make", "autotools", "cmake", "pkg-config", "patchelf",
                             "python3", "perl", "archives", "file"}) {
      EXPECT_TRUE(it->build_tools.count(tool)) << e.name << " lacks build tool " << tool;
    }
    for (const char* gpu : {"cuda", "rocm", "oneapi"}) {
      EXPECT_TRUE(it->gpu_packages.count(gpu)) << e.name << " lacks gpu " << gpu;
    }
    for (const char* lib : {"libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2", "libgcc_s.so.1",
                            "libpthread.so.0", "libpam.so.0", "libz.so.1"}) {
      EXPECT_TRUE(sf::is_system_library(*it, lib)) << e.name << " " << lib;
    }
    // Not on a minimal host of any release: Slurm's own dependencies must be bundled.
    for (const char* lib : {"libmunge.so.2", "libjson-c.so.5", "libhwloc.so.15", "libdbus-1.so.3",
                            "libreadline.so.8", "libcurl.so.4"}) {
      EXPECT_FALSE(sf::is_system_library(*it, lib)) << e.name << " " << lib;
    }
    EXPECT_NE(it->origin.find("releases.yaml:"), std::string::npos) << it->origin;
  }
}

TEST(ToolchainReleaseYaml, RepositoriesAndBootstrapPerRelease) {
  const auto rocky = shipped("rocky");
  auto names_of = [](const sf::ToolchainRelease& r) {
    std::vector<std::string> n;
    for (const auto& repo : r.repositories) n.push_back(repo.name + "/" + repo.method);
    return n;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names_of(rocky[0]),
            (V{"epel/dnf-package", "powertools/dnf-config-manager", "cuda/dnf-repo-file"}));
  EXPECT_EQ(names_of(rocky[1]),
            (V{"epel/dnf-package", "crb/dnf-config-manager", "cuda/dnf-repo-file"}));
  EXPECT_EQ(names_of(rocky[2]),
            (V{"epel/dnf-package", "crb/dnf-config-manager", "cuda/dnf-repo-file"}));
  for (const auto& r : rocky) EXPECT_FALSE(r.bootstrap) << r.name;

  const auto debian = shipped("debian");
  ASSERT_EQ(debian.size(), 2U);
  for (const auto& r : debian) {
    ASSERT_TRUE(r.bootstrap) << r.name;
    EXPECT_EQ(r.bootstrap->tool, "mmdebstrap");
    EXPECT_EQ(r.bootstrap->suite, r.name);
    EXPECT_EQ(r.bootstrap->mirror, "http://deb.debian.org/debian");
    EXPECT_EQ(r.gpu_packages.at("cuda"), V{"libnvidia-ml-dev"});
  }
  const auto ubuntu = shipped("ubuntu");
  ASSERT_EQ(ubuntu.size(), 3U);
  EXPECT_FALSE(ubuntu[2].quirks.empty()) << "resolute has quirks";
  EXPECT_TRUE(ubuntu[1].quirks.empty()) << "noble has none";
}

TEST(ToolchainReleaseYaml, ReleaseMapsMergeWithDefaultsKeyByKey) {
  const auto releases = sf::parse_toolchain_releases(kMinimal, "test.yaml");
  ASSERT_EQ(releases.size(), 1U);
  const auto& r = releases[0];
  EXPECT_EQ(r.name, "one");
  EXPECT_EQ(r.family, "demo");
  EXPECT_EQ(r.build_tools.at("compiler"), (std::vector<std::string>{"gcc", "g++"}));
  EXPECT_EQ(r.build_tools.at("pkg-config"), (std::vector<std::string>{"pkg-config"}));
  EXPECT_EQ(r.origin, "test.yaml:8:3");
}

TEST(ToolchainReleaseYaml, UnknownKeyIsRefusedAtItsLineAndColumn) {
  std::string yaml = kMinimal;
  yaml += "    gcc_verison: \"12\"\n";  // line 15
  EXPECT_EQ(expect_error(yaml, "test.yaml:15:5", "unknown key 'gcc_verison'"),
            "releases.one.gcc_verison");
  EXPECT_EQ(expect_error(std::string("famly: x\n"), "test.yaml:1:1", "unknown key 'famly'"),
            "famly");
}

TEST(ToolchainReleaseYaml, WrongTypesAreRefused) {
  std::string yaml = kMinimal;
  yaml += "    quirks: just-one-line\n";  // line 15, value at column 13
  EXPECT_EQ(expect_error(yaml, "test.yaml:15:13", "must be a list"), "releases.one.quirks");

  std::string map = kMinimal;
  map += "    dev_packages: [a, b]\n";
  EXPECT_EQ(expect_error(map, "test.yaml:15:19", "must map logical names"),
            "releases.one.dev_packages");

  std::string pm = kMinimal;
  pm += "    package_manager: yum\n";
  expect_error(pm, "test.yaml:15:22", "unknown package manager 'yum'");

  std::string version = kMinimal;
  version.replace(version.find("\"12.2\""), 6, "twelve");
  expect_error(version, "test.yaml:10:18", "not a version number");

  std::string twice = kMinimal;
  twice += "    gcc_version: \"13.1\"\n";
  EXPECT_EQ(expect_error(twice, "test.yaml:15:5", "key 'gcc_version' appears twice"),
            "releases.one.gcc_version");
}

TEST(ToolchainReleaseYaml, MissingValuesAreRefused) {
  const std::string no_glibc =
      "family: demo\n"
      "releases:\n"
      "  two:\n"
      "    os_name: Demo 2\n"
      "    gcc_version: \"12.2\"\n"
      "    base_image: example/demo:2\n"
      "    build_tools: {compiler: [gcc]}\n";
  expect_error(no_glibc, "test.yaml:4:5", "has no glibc_version");

  const std::string no_compiler =
      "family: demo\n"
      "releases:\n"
      "  two: {os_name: D, gcc_version: '1.0', glibc_version: '2.0', base_image: x}\n";
  expect_error(no_compiler, "test.yaml:3:8", "lists no compiler package");

  expect_error("releases: {}\n", "test.yaml:1:1", "names no family");
  expect_error("family: demo\nreleases: {}\n", "test.yaml:2:11", "defines no releases");
}

TEST(ToolchainReleaseYaml, RepositoriesAreChecked) {
  std::string yaml = kMinimal;
  yaml += "    repositories:\n      - {name: epel, method: yum-magic}\n";
  EXPECT_EQ(expect_error(yaml, "test.yaml:16:30", "unknown repository method 'yum-magic'"),
            "releases.one.repositories[0].method");
  std::string no_packages = kMinimal;
  no_packages += "    repositories:\n      - {name: epel, method: dnf-package}\n";
  expect_error(no_packages, "test.yaml:16:9", "names no packages");
  std::string bad_key = kMinimal;
  bad_key += "    repositories:\n      - {name: epel, method: dnf-package, pakages: [x]}\n";
  expect_error(bad_key, "test.yaml:16:43", "unknown key 'pakages'");
}

TEST(ToolchainReleaseYaml, InvalidYamlNamesTheLine) {
  try {
    sf::parse_toolchain_releases("family: demo\nreleases:\n  a: [unclosed\n", "broken.yaml");
    FAIL() << "no error";
  } catch (const sf::ConfigurationError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("broken.yaml:", 0), 0U) << e.what();
    EXPECT_NE(std::string(e.what()).find("invalid YAML"), std::string::npos) << e.what();
  }
}

TEST(ToolchainReleaseYaml, BadReleaseNamesAreRefused) {
  const std::string yaml =
      "family: demo\n"
      "releases:\n"
      "  Bad Name: {os_name: D, gcc_version: '1.0', glibc_version: '2.0', base_image: x,\n"
      "             build_tools: {compiler: [gcc]}}\n";
  expect_error(yaml, "test.yaml:3:13", "not a valid name");
}

TEST(ToolchainReleaseYaml, HostileArchAndControlCharactersAreRefused) {
  std::string yaml = kMinimal;
  expect_error(yaml + "    arch: amd64/../../x\n", "test.yaml:15:11", "arch");
  expect_error(yaml + "    arch: \"amd64$(id)\"\n", "test.yaml:15:11", "arch");
  expect_error(std::string(kMinimal).replace(yaml.find("Demo 1"), 6, "\"Demo\\n1\""),
               "test.yaml:9:14", "control character");
}

TEST(ToolchainReleaseYaml, NestedAliasesAreRefusedBeforeTheyExpand) {
  const std::string bomb =
      "family: demo\n"
      "x0: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
      "x1: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
      "x2: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
      "x3: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
      "x4: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
      "x5: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
      "x6: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
  try {
    sf::parse_toolchain_releases(bomb, "bomb.yaml");
    FAIL() << "no error";
  } catch (const sf::ConfigurationError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("bomb.yaml:", 0), 0U) << e.what();
    EXPECT_NE(std::string(e.what()).find("aliases are expanded"), std::string::npos) << e.what();
  }
}
