#include "config/config_merge.hpp"

#include <gtest/gtest.h>

namespace sf::config {
namespace {

TEST(ConfigMerge, MapsMergeKeyByKeyAndScalarsReplace) {
  YAML::Node tree(YAML::NodeType::Map);
  Origins o;
  const YAML::Node a = YAML::Load("build: {jobs: 1, pids: 10}\n");
  const YAML::Node b = YAML::Load("build: {jobs: 2}\n");
  merge_layer(tree, o, a, root_schema(), LayerSource::from_file("a"));
  merge_layer(tree, o, b, root_schema(), LayerSource::from_file("b"));
  EXPECT_EQ(tree["build"]["jobs"].as<int>(), 2);
  EXPECT_EQ(tree["build"]["pids"].as<int>(), 10);
  EXPECT_EQ(o["build.jobs"], "b:1:15");
  EXPECT_EQ(o["build.pids"], "a:1:24");
  // The layers themselves are not changed by merging.
  EXPECT_EQ(a["build"]["jobs"].as<int>(), 1);
  EXPECT_FALSE(b["build"]["pids"]);
}

TEST(ConfigMerge, ListsReplaceWholeAndDropStaleOrigins) {
  YAML::Node tree(YAML::NodeType::Map);
  Origins o;
  merge_layer(tree, o, YAML::Load("plugins: {load: [a, b, c]}"), root_schema(),
              LayerSource::from_file("1"));
  merge_layer(tree, o, YAML::Load("plugins: {load: [x]}"), root_schema(),
              LayerSource::fixed("--plugins", "--plugins"));
  ASSERT_EQ(tree["plugins"]["load"].size(), 1U);
  EXPECT_EQ(tree["plugins"]["load"][0].as<std::string>(), "x");
  EXPECT_EQ(o["plugins.load[0]"], "--plugins");
  EXPECT_EQ(o.count("plugins.load[2]"), 0U);
}

TEST(ConfigMerge, NamedEntriesReplaceOneByOne) {
  YAML::Node tree(YAML::NodeType::Map);
  Origins o;
  merge_layer(tree, o, YAML::Load("toolchains: {a: {family: x, extra: 1}, b: {family: y}}"),
              root_schema(), LayerSource::from_file("1"));
  merge_layer(tree, o, YAML::Load("toolchains: {a: {family: z}}"), root_schema(),
              LayerSource::from_file("2"));
  EXPECT_EQ(tree["toolchains"]["a"]["family"].as<std::string>(), "z");
  EXPECT_FALSE(tree["toolchains"]["a"]["extra"]);
  EXPECT_EQ(tree["toolchains"]["b"]["family"].as<std::string>(), "y");
  EXPECT_EQ(o.count("toolchains.a.extra"), 0U);
}

TEST(ConfigMerge, NullsAndProfilesAreSkipped) {
  YAML::Node tree(YAML::NodeType::Map);
  Origins o;
  merge_layer(tree, o, YAML::Load("build: {jobs: 3}"), root_schema(), LayerSource::from_file("1"));
  merge_layer(tree, o, YAML::Load("build:\n  jobs:\nprofiles: {ci: {}}\n"), root_schema(),
              LayerSource::from_file("2"));
  EXPECT_EQ(tree["build"]["jobs"].as<int>(), 3);
  EXPECT_FALSE(tree["profiles"]);
}

TEST(ConfigMerge, EraseOriginsUnderKeepsSiblingsWithTheSamePrefix) {
  Origins o{
      {"cache", "1"}, {"cache.layers", "1"}, {"cache.layers[0].url", "1"}, {"cache_dir", "1"}};
  erase_origins_under(o, "cache");
  EXPECT_EQ(o.size(), 1U);
  EXPECT_EQ(o.count("cache_dir"), 1U);
}

}  // namespace
}  // namespace sf::config
