#include "recipes/planner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "recipes/package_hash.hpp"
#include "recipes/recipe_book.hpp"
#include "recipes/recipe_parser.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

ToolchainRelease trixie() {
  ToolchainRelease t;
  t.name = "trixie";
  t.family = "debian";
  t.arch = "amd64";
  for (const char* k :
       {"munge", "json-c", "yaml", "jwt", "http-parser", "lz4", "hwloc", "pmix", "curl", "ssl",
        "pam", "dbus", "readline", "lua", "mysql", "numa", "rdkafka"}) {
    t.dev_packages[k] = {std::string("lib") + k + "-dev"};
  }
  return t;
}

const RecipeBook& book() {
  static RecipeBook b =
      RecipeBook::load_directory(std::filesystem::path(SF_TEST_SOURCE_DIR) / "configs" / "recipes");
  return b;
}

PlanRequest request(const std::string& version = "24.11.5") {
  PlanRequest r;
  r.slurm_version = version;
  r.toolchain = trixie();
  r.toolchain_image_hash = "sha256:1111";
  return r;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Planner, DefaultDagForSlurm2411) {
  Plan plan = make_plan(book(), request("24.11"));
  EXPECT_EQ(plan.slurm_version, "24.11.6");
  EXPECT_EQ(plan.root().name, "slurm");
  std::vector<std::string> names;
  for (const auto& p : plan.packages) names.push_back(p.name);
  // Dependencies come before their dependents.
  auto pos = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) - names.begin();
  };
  EXPECT_LT(pos("openssl"), pos("curl"));
  EXPECT_LT(pos("openssl"), pos("munge"));
  // libjwt comes from the system (the reachable source lacks files), so jansson is not planned.
  EXPECT_EQ(plan.find("libjwt")->origin, Origin::kSystem);
  EXPECT_EQ(plan.find("jansson"), nullptr);
  EXPECT_LT(pos("curl"), pos("slurm"));
  // pmix comes from the system on Debian, so libevent is not planned.
  EXPECT_EQ(plan.find("pmix")->origin, Origin::kSystem);
  EXPECT_EQ(plan.find("libevent"), nullptr);
  for (const char* n : {"munge", "json-c", "curl", "openssl", "hwloc"}) {
    EXPECT_EQ(plan.find(n)->origin, Origin::kSource) << n;
  }
  EXPECT_EQ(plan.packages.size(), 11U);
  const auto& slurm = plan.root();
  EXPECT_TRUE(has(slurm.configure_args, "--sysconfdir=/etc/slurm"));
  EXPECT_TRUE(has(slurm.configure_args, "--enable-pam"));
  EXPECT_TRUE(has(slurm.configure_args, "--enable-slurmrestd"));
  EXPECT_TRUE(has(slurm.configure_args, "--with-munge=/opt/slurm/view"));
  EXPECT_TRUE(has(slurm.configure_args, "--with-http-parser=/opt/slurm/view"));
  EXPECT_TRUE(has(slurm.configure_args, "--with-pmix=/usr/lib/x86_64-linux-gnu/pmix2"));
  EXPECT_FALSE(has(slurm.configure_args, "--with-s2n"));
  EXPECT_EQ(slurm.env.at("LDFLAGS"), "-Wl,-z,lazy");
  // influxdb: Slurm's configure drops the plugin for --with-libcurl=PATH; the env points at curl.
  for (const auto& a : slurm.configure_args) EXPECT_NE(a.rfind("--with-libcurl", 0), 0U) << a;
  EXPECT_EQ(slurm.env.at("LIBCURL"), "-L/opt/slurm/view/lib -lcurl");
  EXPECT_EQ(slurm.env.at("LIBCURL_CPPFLAGS"), "-I/opt/slurm/view/include");
  EXPECT_EQ(slurm.build_args, std::vector<std::string>{"-j${jobs}"});
  EXPECT_EQ(slurm.source.sha256,
            "282708483326f381eb001a14852a1a82e65e18f37b62b7a5f4936c0ed443b600");
  for (const auto& p : plan.packages) {
    EXPECT_EQ(p.hash.size(), 64U);
    EXPECT_TRUE(p.runtime) << p.name;
    for (const auto& a : p.configure_args) EXPECT_EQ(a.find("-z,now"), std::string::npos);
  }
  EXPECT_TRUE(has(plan.system_packages, "pmix"));
  EXPECT_TRUE(has(plan.system_packages, "pam"));
  EXPECT_TRUE(has(plan.system_package_names, "libpmix-dev"));
}

// The shipped recipes: only Slurm's and munge's programs are public; every other package's stay
// out of the view (curl, openssl, lstopo would shadow the system's).
TEST(Planner, OnlySlurmAndMungeHavePublicPrograms) {
  Plan plan = make_plan(book(), request("24.11"));
  for (const auto& p : plan.packages) {
    if (p.name == "slurm" || p.name == "munge") {
      EXPECT_EQ(p.public_programs, std::vector<std::string>{"*"}) << p.name;
    } else {
      EXPECT_TRUE(p.public_programs.empty()) << p.name;
    }
  }
  // Not a build input: the hash of a package does not change with it.
  Plan again = make_plan(book(), request("24.11"));
  const_cast<PackageSpec*>(again.find("curl"))->public_programs = {"*"};
  EXPECT_EQ(package_hash(canonical_description(*again.find("curl"))), plan.find("curl")->hash);
}

// A recipe without the key: the root's programs are public, a dependency's are not.
TEST(Planner, PublicProgramsDefaultToAllForTheRootAndNoneForADependency) {
  auto recipe = [](const std::string& name, const std::string& extra) {
    return parse_recipe("name: " + name + "\nversions:\n  - version: \"24.11.5\"\n    sha256: " +
                            std::string(64, 'a') + "\n    mirrors: [https://example.org/" + name +
                            ".tar.gz]\n" + extra,
                        name + ".yaml");
  };
  RecipeBook stand_in({recipe("slurm", "dependencies: [dep, listed]\n"), recipe("dep", ""),
                       recipe("listed", "public_programs: [tool]\n")});
  Plan plan = make_plan(stand_in, request("24.11.5"));
  EXPECT_EQ(plan.find("slurm")->public_programs, std::vector<std::string>{"*"});
  EXPECT_TRUE(plan.find("dep")->public_programs.empty());
  EXPECT_EQ(plan.find("listed")->public_programs, std::vector<std::string>{"tool"});
}

TEST(Planner, HttpParserFlagFollowsTheSlurmVersion) {
  auto args = [](const std::string& v) {
    return make_plan(book(), request(v)).root().configure_args;
  };
  EXPECT_TRUE(has(args("25.11"), "--with-http-parser=/opt/slurm/view"));
  EXPECT_FALSE(has(args("25.11"), "--with-libhttp-parser=/opt/slurm/view"));
  EXPECT_TRUE(has(args("26.05"), "--with-libhttp-parser=/opt/slurm/view"));
  EXPECT_FALSE(has(args("26.05"), "--with-http-parser=/opt/slurm/view"));
  EXPECT_TRUE(has(args("22.05.8"), "--with-http-parser=/opt/slurm/view"));
}

TEST(Planner, S2nOnlyWhereTheReleaseHasIt) {
  auto req = request("25.11");
  EXPECT_FALSE(has(make_plan(book(), req).root().configure_args, "--with-s2n"));
  req.toolchain.dev_packages["s2n"] = {"libs2n-dev"};
  EXPECT_TRUE(has(make_plan(book(), req).root().configure_args, "--with-s2n"));
  // Not for versions before 25.05 whatever the release has.
  req.slurm_version = "24.11.5";
  EXPECT_FALSE(has(make_plan(book(), req).root().configure_args, "--with-s2n"));
}

TEST(Planner, FeaturesAndOverrides) {
  auto req = request();
  req.features = {"gpu-cuda"};
  req.extra_slurm_configure_args = {"--with-nvml=/usr"};
  Plan plan = make_plan(book(), req);
  EXPECT_TRUE(has(plan.root().configure_args, "--with-nvml"));
  EXPECT_TRUE(has(plan.root().configure_args, "--with-nvml=/usr"));
  EXPECT_EQ(plan.root().features, std::vector<std::string>{"gpu-cuda"});
  EXPECT_TRUE(plan.find("munge")->features.empty());  // cuda does not bear on munge

  req.origin_overrides["pmix"] = Origin::kSource;
  req.origin_overrides["libjwt"] = Origin::kSource;
  plan = make_plan(book(), req);
  ASSERT_NE(plan.find("libevent"), nullptr);
  EXPECT_LT(std::find_if(plan.packages.begin(), plan.packages.end(),
                         [](const auto& p) { return p.name == "jansson"; }),
            std::find_if(plan.packages.begin(), plan.packages.end(),
                         [](const auto& p) { return p.name == "libjwt"; }));
  EXPECT_EQ(plan.find("pmix")->origin, Origin::kSource);
  EXPECT_TRUE(has(plan.root().configure_args, "--with-pmix=/opt/slurm/view"));
  auto inputs = plan.build_inputs("slurm");
  auto input_names = std::vector<std::string>{};
  for (const auto* p : inputs) input_names.push_back(p->name);
  EXPECT_TRUE(has(input_names, "libevent"));  // through pmix (link)
  EXPECT_TRUE(has(input_names, "jansson"));   // through libjwt (link)
  EXPECT_FALSE(has(input_names, "slurm"));

  req.origin_overrides["munge"] = Origin::kSystem;
  plan = make_plan(book(), req);
  EXPECT_TRUE(has(plan.root().configure_args, "--with-munge=/usr"));
  EXPECT_EQ(plan.find("munge")->system_package_names, std::vector<std::string>{"libmunge-dev"});
}

TEST(Planner, SystemOriginNeedsTheReleasesDevPackage) {
  auto req = request();
  req.toolchain.dev_packages.erase("pmix");
  try {
    (void)make_plan(book(), req);
    FAIL();
  } catch (const ConfigurationError& e) {
    EXPECT_NE(std::string(e.what()).find("no dev package for 'pmix'"), std::string::npos);
    EXPECT_NE(e.remediation().find("--from pmix=source"), std::string::npos);
  }
  req.origin_overrides["libjwt"] = Origin::kSource;   // brings jansson into the plan
  req.origin_overrides["jansson"] = Origin::kSystem;  // jansson has no system_package
  req.toolchain = trixie();
  EXPECT_THROW((void)make_plan(book(), req), ConfigurationError);
}

TEST(Planner, UnknownVersionAndRecipe) {
  EXPECT_THROW((void)make_plan(book(), request("24.05")), UsageError);
  auto req = request();
  req.version_overrides["nope"] = "1";
  EXPECT_THROW((void)make_plan(book(), req), ConfigurationError);
}

TEST(Planner, JsonHasEveryPackage) {
  auto j = make_plan(book(), request()).to_json();
  EXPECT_EQ(j["slurm_version"], "24.11.5");
  EXPECT_EQ(j["packages"].size(), 11U);
  EXPECT_EQ(j["packages"].back()["name"], "slurm");
  EXPECT_EQ(j["packages"].back()["hash12"].get<std::string>().size(), 12U);
}

TEST(Planner, FullDagPlansFast) {
  auto req = request();
  req.origin_overrides["pmix"] = Origin::kSource;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) (void)make_plan(book(), req);
  auto per_plan = (std::chrono::steady_clock::now() - start) / 20;
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(per_plan).count(), 50);
}

}  // namespace
}  // namespace sf

namespace sf {
namespace {

// Point 4 of issue 13: the contribs are installed by extra make runs, the PAM module into the
// view; cgroup/v2 is required (--enable-cgroupv2 from 24.11, --with-bpf before) and freeipmi too.
TEST(Planner, SlurmInstallsContribsAndRequiresCgroupV2AndFreeipmi) {
  for (const char* v : {"22.05.8", "23.11.11", "24.11.5", "25.11.6", "26.05.0"}) {
    auto r = request(v);
    for (const char* k : {"freeipmi", "hdf5", "bpf"}) r.toolchain.dev_packages[k] = {k};
    const Plan plan = make_plan(book(), r);
    const auto& slurm = plan.root();
    EXPECT_EQ(slurm.extra_install,
              (std::vector<std::string>{
                  "-C contribs/pmi2 install", "-C contribs/nss_slurm install",
                  "-C contribs/pam_slurm_adopt install PAM_DIR=/opt/slurm/view/lib/security"}))
        << v;
    const bool new_cgroup = std::string(v) >= "24.11";
    EXPECT_EQ(has(slurm.configure_args, "--enable-cgroupv2"), new_cgroup) << v;
    EXPECT_EQ(has(slurm.configure_args, "--with-bpf"), !new_cgroup) << v;
    EXPECT_TRUE(has(slurm.configure_args, "--with-freeipmi")) << v;
    for (const char* dev : {"freeipmi", "hdf5", "bpf", "dbus"}) {
      EXPECT_TRUE(has(plan.system_packages, dev)) << v << " " << dev;
    }
    // Dependencies do not get the key (their hashes stay).
    EXPECT_TRUE(plan.find("munge")->extra_install.empty());
    EXPECT_FALSE(plan.to_json()["expected_plugins"].empty());
    EXPECT_EQ(plan.to_json()["packages"].back()["extra_install"].size(), 3U);
  }
}

}  // namespace
}  // namespace sf
