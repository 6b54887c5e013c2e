#include "recipes/package_hash.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "recipes/planner.hpp"
#include "slurm_factory/digest.hpp"

namespace sf {
namespace {

ToolchainRelease trixie() {
  ToolchainRelease t;
  t.name = "trixie";
  t.family = "debian";
  t.arch = "amd64";
  for (const char* k : {"munge", "json-c", "yaml", "jwt", "http-parser", "lz4", "hwloc", "pmix",
                        "curl", "ssl", "pam", "dbus", "readline", "lua", "mysql", "numa"}) {
    t.dev_packages[k] = {std::string("lib") + k + "-dev"};
  }
  return t;
}

const RecipeBook& book() {
  static RecipeBook b =
      RecipeBook::load_directory(std::filesystem::path(SF_TEST_SOURCE_DIR) / "configs" / "recipes");
  return b;
}

PlanRequest base() {
  PlanRequest r;
  r.slurm_version = "24.11.5";
  r.toolchain = trixie();
  r.toolchain_image_hash = "image-aaaa";
  // Built from source here, so the DAG keeps the jansson -> libjwt -> slurm chain these tests
  // follow.
  r.origin_overrides["libjwt"] = Origin::kSource;
  return r;
}

std::map<std::string, std::string> hashes(const PlanRequest& r) {
  std::map<std::string, std::string> out;
  for (const auto& p : make_plan(book(), r).packages) out[p.name] = p.hash;
  return out;
}

// Names whose hash differs between two plans (of the same packages).
std::set<std::string> changed(const std::map<std::string, std::string>& a,
                              const std::map<std::string, std::string>& b) {
  std::set<std::string> out;
  for (const auto& [name, h] : a) {
    if (b.at(name) != h) out.insert(name);
  }
  return out;
}

TEST(PackageHash, Sha256OfKnownBytes) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hash12(sha256_hex("abc")), "ba7816bf8f01");
}

TEST(PackageHash, StableAcrossRunsAndInputOrder) {
  auto a = hashes(base());
  auto b = hashes(base());
  EXPECT_EQ(a, b);
  auto r1 = base();
  r1.features = {"gpu-rocm", "gpu-cuda"};
  auto r2 = base();
  r2.features = {"gpu-cuda", "gpu-rocm", "gpu-cuda"};
  EXPECT_EQ(hashes(r1), hashes(r2));
  // A golden value: the description is canonical, so this only changes with the recipe or the
  // schema (then update it deliberately).
  PackageSpec s;
  s.name = "demo";
  s.version = "1.0";
  s.source.sha256 = std::string(64, 'a');
  s.prefix = "/opt/slurm/view";
  s.toolchain = {"debian", "trixie", "amd64", "img"};
  s.configure_args = {"--prefix=/opt/slurm/view"};
  EXPECT_EQ(
      canonical_description(s).dump(),
      R"({"autoreconf":false,"build":[],"build_system":"autotools","configure":["--prefix=/opt/slurm/view"],"configure_command":"","dependencies":[],"env":{},"features":[],"install":[],"name":"demo","origin":"source","patches":[],"prefix":"/opt/slurm/view","schema":2,"source_sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","system_dependencies":[],"toolchain":{"arch":"amd64","family":"debian","image_hash":"img","release":"trixie"},"version":"1.0"})");
  EXPECT_EQ(package_hash(canonical_description(s)), sha256_hex(canonical_description(s).dump()));
}

TEST(PackageHash, ToolchainImageChangesEverything) {
  auto r = base();
  r.toolchain_image_hash = "image-bbbb";
  EXPECT_EQ(changed(hashes(base()), hashes(r)).size(), hashes(base()).size());
}

TEST(PackageHash, OneChangedInputChangesExactlyTheDependents) {
  // jansson's version is the input: jansson, libjwt (links jansson) and slurm change; nothing else.
  Recipe jansson = book().get("jansson");
  RecipeVersion other = jansson.versions[0];
  other.version = "2.13.1";
  other.sha256 = std::string(64, 'b');
  jansson.versions.push_back(other);
  std::vector<Recipe> recipes;
  for (const auto& n : book().names()) recipes.push_back(n == "jansson" ? jansson : book().get(n));
  RecipeBook edited(recipes);
  auto r = base();
  auto before = hashes(r);
  r.version_overrides["jansson"] = "2.13.1";
  std::map<std::string, std::string> after;
  for (const auto& p : make_plan(edited, r).packages) after[p.name] = p.hash;
  EXPECT_EQ(changed(before, after), (std::set<std::string>{"jansson", "libjwt", "slurm"}));
}

TEST(PackageHash, SourceChecksumAndArgumentsAreInputs) {
  auto before = hashes(base());
  std::vector<Recipe> recipes;
  for (const auto& n : book().names()) {
    Recipe r = book().get(n);
    if (n == "openssl") r.versions[0].sha256 = std::string(64, 'c');
    if (n == "lz4") r.build_args.push_back({"V=1", {}, {}});
    recipes.push_back(r);
  }
  std::map<std::string, std::string> after;
  for (const auto& p : make_plan(RecipeBook(recipes), base()).packages) after[p.name] = p.hash;
  EXPECT_EQ(changed(before, after),
            (std::set<std::string>{"openssl", "curl", "munge", "libjwt", "lz4", "slurm"}));
}

TEST(PackageHash, FeaturesOnlyTouchThePackagesTheyBearOn) {
  auto r = base();
  r.features = {"gpu-cuda"};
  EXPECT_EQ(changed(hashes(base()), hashes(r)), (std::set<std::string>{"slurm"}));
}

TEST(PackageHash, MirrorsAndJobsAreNotInputs) {
  auto before = hashes(base());
  std::vector<Recipe> recipes;
  for (const auto& n : book().names()) {
    Recipe r = book().get(n);
    for (auto& v : r.versions) v.mirrors = {"file:///elsewhere/x.tar.gz"};
    recipes.push_back(r);
  }
  std::map<std::string, std::string> after;
  for (const auto& p : make_plan(RecipeBook(recipes), base()).packages) after[p.name] = p.hash;
  EXPECT_TRUE(changed(before, after).empty());
  EXPECT_EQ(make_plan(book(), base()).root().build_args.front(), "-j${jobs}");
}

// build.network lets a compile step fetch what it likes: such a build is not the hermetic one and
// must not share its cache entries; the default (off) keeps every hermetic hash as it was.
TEST(PackageHash, BuildNetworkIsAnInputOfEveryBuiltPackage) {
  auto networked = base();
  networked.build_network = true;
  const auto before = hashes(base());
  const auto after = hashes(networked);
  std::size_t built = 0;  // system packages come from the image: not built, not changed
  for (const auto& p : make_plan(book(), base()).packages) built += p.origin == Origin::kSource;
  EXPECT_GT(built, 0U);
  EXPECT_EQ(changed(before, after).size(), built);
  auto off = base();
  off.build_network = false;
  EXPECT_TRUE(changed(before, hashes(off)).empty());
}

TEST(PackageHash, OriginIsAnInput) {
  auto r = base();
  r.origin_overrides["munge"] = Origin::kSystem;
  EXPECT_EQ(changed(hashes(base()), hashes(r)), (std::set<std::string>{"munge", "slurm"}));
}

}  // namespace
}  // namespace sf
