// Plan-time check of the PMIx version each Slurm series accepts, on the shipped recipes: the real
// pairs (22.05.8 and 24.11.5 on bookworm's PMIx 4.2.2 and trixie's 5.0.7) plan; a PMIx 6 (a
// release that ships it, or built from source) fails before 25.11, naming the series, the PMIx
// version and where it comes from, and what to do.
#include "recipes/version_constraints.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "recipes/planner.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

ToolchainRelease debian(const std::string& name) {
  ToolchainRelease t;
  t.name = name;
  t.family = "debian";
  t.arch = "amd64";
  for (const char* k :
       {"munge", "json-c", "yaml", "jwt", "http-parser", "lz4", "hwloc", "pmix", "curl", "ssl",
        "pam", "dbus", "readline", "lua", "mysql", "numa", "rdkafka"}) {
    t.dev_packages[k] = {std::string("lib") + k + "-dev"};
  }
  return t;
}

const RecipeBook& shipped() {
  static RecipeBook b =
      RecipeBook::load_directory(std::filesystem::path(SF_TEST_SOURCE_DIR) / "configs" / "recipes");
  return b;
}

// The shipped recipes, with a release "forky" whose libpmix-dev is PMIx 6.0.0 and a pmix 6.0.0
// source version (what a newer Debian or a newer recipe would bring).
const RecipeBook& with_pmix6() {
  static RecipeBook b = [] {
    std::vector<Recipe> recipes;
    for (const auto& n : shipped().names()) recipes.push_back(shipped().get(n));
    for (auto& r : recipes) {
      if (r.name != "pmix") continue;
      r.system_version["debian/forky"] = "6.0.0";
      RecipeVersion v = r.versions.front();
      v.version = "6.0.0";
      v.filename = "pmix-6.0.0.tar.xz";
      r.versions.insert(r.versions.begin(), v);
    }
    return RecipeBook(std::move(recipes), shipped().directory());
  }();
  return b;
}

PlanRequest request(const std::string& slurm, const std::string& release) {
  PlanRequest r;
  r.slurm_version = slurm;
  r.toolchain = debian(release);
  r.toolchain_image_hash = "sha256:1111";
  return r;
}

std::string plan_error(const RecipeBook& book, const PlanRequest& req) {
  try {
    (void)make_plan(book, req);
  } catch (const ConfigurationError& e) {
    return e.render();
  }
  return "";
}

TEST(VersionConstraints, TheShippedPmixRecordsWhatEachDebianReleaseShips) {
  const Recipe& pmix = shipped().get("pmix");
  EXPECT_EQ(pmix.system_version_for("debian", "bookworm"), "4.2.2");
  EXPECT_EQ(pmix.system_version_for("debian", "trixie"), "5.0.7");
  EXPECT_EQ(pmix.system_version_for("ubuntu", "noble"), "");  // unknown: not checked
  EXPECT_EQ(pmix.version_constraints.size(), 2u);
}

TEST(VersionConstraints, EverySeriesPlansWithBookwormsAndTrixiesPmix) {
  for (const char* slurm : {"22.05.8", "23.11.11", "24.11.5", "25.11.6", "26.05.0"}) {
    for (const char* release : {"bookworm", "trixie"}) {
      const Plan plan = make_plan(shipped(), request(slurm, release));
      const PackageSpec* pmix = plan.find("pmix");
      ASSERT_NE(pmix, nullptr);
      EXPECT_EQ(effective_version(shipped().get("pmix"), *pmix),
                std::string(release) == "bookworm" ? "4.2.2" : "5.0.7");
    }
  }
}

TEST(VersionConstraints, ASystemPmix6FailsBefore2511NamingSeriesVersionAndWhatToDo) {
  for (const char* slurm : {"22.05.8", "23.11.11", "24.11.5"}) {
    const std::string what = plan_error(with_pmix6(), request(slurm, "forky"));
    ASSERT_FALSE(what.empty()) << slurm;
    if (std::string(slurm) == "22.05.8") std::cout << what << "\n";  // shown in the test log
    EXPECT_NE(what.find("Slurm " + std::string(slurm) + " cannot use pmix 6.0.0"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("PMIx v2 to v5 only"), std::string::npos) << what;
    EXPECT_NE(what.find("from: system, what debian/forky's libpmix-dev ships"), std::string::npos)
        << what;
    EXPECT_NE(what.find("pmix.yaml:"), std::string::npos) << what;  // the constraint's line
    EXPECT_NE(what.find("--from pmix=source --with pmix=5.0.7"), std::string::npos) << what;
  }
  // 25.11 and later accept PMIx 6.
  for (const char* slurm : {"25.11.6", "26.05.0"}) {
    EXPECT_EQ(plan_error(with_pmix6(), request(slurm, "forky")), "") << slurm;
  }
  // The advice works: PMIx 5.0.7 from source plans with 22.05.8 on that release.
  PlanRequest fixed = request("22.05.8", "forky");
  fixed.origin_overrides["pmix"] = Origin::kSource;
  fixed.version_overrides["pmix"] = "5.0.7";
  EXPECT_EQ(make_plan(with_pmix6(), fixed).find("pmix")->version, "5.0.7");
}

TEST(VersionConstraints, APmix6BuiltFromSourceFailsBefore2511) {
  PlanRequest req = request("22.05.8", "trixie");
  req.origin_overrides["pmix"] = Origin::kSource;
  req.version_overrides["pmix"] = "6.0.0";
  const std::string what = plan_error(with_pmix6(), req);
  EXPECT_NE(what.find("Slurm 22.05.8 cannot use pmix 6.0.0"), std::string::npos) << what;
  EXPECT_NE(what.find("from: source, the recipe's version"), std::string::npos) << what;
  EXPECT_NE(what.find("--from pmix=system"), std::string::npos) << what;  // trixie's 5.0.7 fits
  req.slurm_version = "25.11.6";
  EXPECT_EQ(plan_error(with_pmix6(), req), "");
}

}  // namespace
}  // namespace sf
