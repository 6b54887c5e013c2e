// The Registry a plugin's register function receives: staging, refusals, commit.
#include "plugin_host/plugin_registry.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/feature.hpp"
#include "slurm_factory/packager.hpp"
#include "slurm_factory/toolchain.hpp"

using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

sf::PluginContext context_for(const std::string& file) {
  return sf::PluginContext{nullptr, sf::kAbiVersion, file};
}

auto no_family = [] { return std::unique_ptr<sf::ToolchainFamily>(); };
auto no_feature = [] { return std::unique_ptr<sf::Feature>(); };

TEST(PluginRegistry, StagesFactoriesInOrderAndCommitsThem) {
  sf::FactoryTable table;
  sf::PluginRegistry r(context_for("/p/libsf-a.so"), "a", table);
  EXPECT_EQ(r.context().plugin_file, "/p/libsf-a.so");
  EXPECT_EQ(r.context().host_abi, sf::kAbiVersion);
  r.add_feature("f1", no_feature);
  r.add_toolchain_family("fam", no_family);
  r.add_feature("f0", no_feature);
  using P = std::pair<std::string, std::string>;
  EXPECT_THAT(r.provides(),
              ElementsAre(P{"feature", "f1"}, P{"toolchain", "fam"}, P{"feature", "f0"}));
  EXPECT_TRUE(table.features.empty());  // nothing visible before commit
  r.commit_into(table);
  ASSERT_EQ(table.features.size(), 2U);
  EXPECT_EQ(table.features.at("f1").plugin, "a");
  EXPECT_EQ(table.features.at("f1").file, "/p/libsf-a.so");
  EXPECT_EQ(table.toolchains.count("fam"), 1U);
  EXPECT_FALSE(r.refusal().has_value());
}

TEST(PluginRegistry, TheSameNameUnderAnotherKindIsFine) {
  sf::FactoryTable table;
  sf::PluginRegistry r(context_for("/p/libsf-a.so"), "a", table);
  r.add_feature("x", no_feature);
  EXPECT_NO_THROW(r.add_toolchain_family("x", no_family));
}

TEST(PluginRegistry, RefusesANameTwiceInOnePluginAndRemembersTheRefusal) {
  sf::FactoryTable table;
  sf::PluginRegistry r(context_for("/p/libsf-a.so"), "a", table);
  r.add_feature("f", no_feature);
  try {
    r.add_feature("f", no_feature);
    FAIL() << "expected a PluginError";
  } catch (const sf::PluginError& e) {
    EXPECT_STREQ(e.what(), "plugin 'a' (/p/libsf-a.so) registers feature 'f' twice");
    EXPECT_EQ(e.context_value("file"), "/p/libsf-a.so");
  }
  ASSERT_TRUE(r.refusal().has_value());
  EXPECT_THAT(r.refusal()->what(), HasSubstr("twice"));
}

TEST(PluginRegistry, RefusesANameAnotherPluginHasNamingIt) {
  sf::FactoryTable table;
  sf::PluginRegistry first(context_for("/p/libsf-a.so"), "a", table);
  first.add_cache_provider(
      "s3", [](const sf::CacheLayerSpec&) { return std::unique_ptr<sf::CacheProvider>(); });
  first.commit_into(table);
  sf::PluginRegistry second(context_for("/p/libsf-b.so"), "b", table);
  try {
    second.add_cache_provider(
        "s3", [](const sf::CacheLayerSpec&) { return std::unique_ptr<sf::CacheProvider>(); });
    FAIL() << "expected a PluginError";
  } catch (const sf::PluginError& e) {
    EXPECT_STREQ(e.what(),
                 "plugin 'b' (/p/libsf-b.so) registers cache provider type 's3', already "
                 "registered by plugin 'a' (/p/libsf-a.so)");
    EXPECT_EQ(e.context_value("other file"), "/p/libsf-a.so");
    EXPECT_THAT(e.remediation(), HasSubstr("plugins.load"));
  }
}

TEST(PluginRegistry, RefusesAnEmptyNameOrFactory) {
  sf::FactoryTable table;
  sf::PluginRegistry r(context_for("/p/libsf-a.so"), "a", table);
  EXPECT_THROW(
      r.add_packager("", [](const nlohmann::json&) { return std::unique_ptr<sf::Packager>(); }),
      sf::PluginError);
  EXPECT_THROW(r.add_container_backend("docker", nullptr), sf::PluginError);
  EXPECT_TRUE(r.provides().empty());
}

}  // namespace
