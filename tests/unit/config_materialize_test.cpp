#include "config/config_materialize.hpp"

#include <gtest/gtest.h>

#include "config/config_loader.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

Config from(const std::string& yaml) {
  Config c;
  c.home = "/home/u";
  c.tree = YAML::Load(
      "cache_dir: ~/.sf\nbackend: docker\n"
      "cache: {layers: [{name: local, type: local, url: 'file://${cache_dir}/cache'}]}\n");
  const YAML::Node extra = YAML::Load(yaml);
  if (extra.IsMap()) {
    for (const auto& kv : extra) c.tree[kv.first.Scalar()] = kv.second;
  }
  config::materialize(c);
  return c;
}

TEST(ConfigMaterialize, ExpandsHomeAndCacheDir) {
  const Config c = from(
      "plugins: {search_paths: ['~/p', '${cache_dir}/plugins']}\n"
      "signing: {keyring: ~/.gnupg, passphrase_file: '${cache_dir}/pass'}\n");
  EXPECT_EQ(c.cache_dir, "/home/u/.sf");
  EXPECT_EQ(c.cache_layers[0].url, "file:///home/u/.sf/cache");
  ASSERT_EQ(c.plugin_search_paths.size(), 2U);
  EXPECT_EQ(c.plugin_search_paths[0], "/home/u/p");
  EXPECT_EQ(c.plugin_search_paths[1], "/home/u/.sf/plugins");
  EXPECT_EQ(c.signing.keyring, "/home/u/.gnupg");
  EXPECT_EQ(c.signing.passphrase_file, "/home/u/.sf/pass");
}

TEST(ConfigMaterialize, TypedValuesAndNormalisedFingerprints) {
  const Config c = from(
      "build: {jobs: 4, cpus: 2.5, memory: 2g, shm: 64m, pids: 100, network: true}\n"
      "signing: {trusted_fingerprints: ['0123 4567 89ab cdef 0123 4567 89ab cdef 0123 4567'],"
      " require_signed: yes}\n"
      "backends: {docker: {socket: 'unix:///run/docker.sock', timeout: 30}}\n"
      "cache: {layers: [{name: s3, type: s3, url: 's3://b/p', writable: false,"
      " settings: {region: eu-west-1, part_size: 8}}]}\n"
      "pipelines: {nightly: {matrix: {slurm_versions: ['24.11'], toolchains: [noble]}}}\n");
  EXPECT_EQ(c.build.jobs, 4);
  EXPECT_DOUBLE_EQ(c.build.cpus, 2.5);
  EXPECT_EQ(c.build.memory, "2g");
  EXPECT_EQ(c.build.shm, "64m");
  EXPECT_EQ(c.build.pids, 100);
  EXPECT_TRUE(c.build.network);
  EXPECT_EQ(c.signing.trusted_fingerprints,
            std::vector<std::string>{"0123456789ABCDEF0123456789ABCDEF01234567"});
  EXPECT_TRUE(c.signing.require_signed);
  EXPECT_EQ(c.backends["docker"]["timeout"], 30);
  ASSERT_EQ(c.cache_layers.size(), 1U);
  EXPECT_FALSE(c.cache_layers[0].writable);
  EXPECT_EQ(c.cache_layers[0].settings["region"], "eu-west-1");
  EXPECT_EQ(c.cache_layers[0].settings["part_size"], 8);
  EXPECT_EQ(c.pipelines["nightly"]["matrix"]["slurm_versions"][0], "24.11");
}

// build.ccache (a compiler cache per toolchain image) is on with 5g unless the config says
// otherwise.
TEST(ConfigMaterialize, BuildCcacheDefaultsAndOverrides) {
  const Config d = from("");
  EXPECT_TRUE(d.build.ccache);
  EXPECT_EQ(d.build.ccache_max_size, "5g");
  const Config off = from("build: {ccache: false, ccache_max_size: 20g}\n");
  EXPECT_FALSE(off.build.ccache);
  EXPECT_EQ(off.build.ccache_max_size, "20g");
}

TEST(ConfigMaterialize, ContradictionsAreErrors) {
  EXPECT_THROW(from("signing: {require_signed: true, allow_unsigned: true}\n"), ConfigurationError);
  EXPECT_THROW(from("signing: {private_key_file: /k, private_key_env: K}\n"), ConfigurationError);
  EXPECT_THROW(from("backend: ''\n"), ConfigurationError);
  EXPECT_THROW(from("cache_dir: '~other/x'\n"), ConfigurationError);
}

TEST(ConfigMaterialize, ExpandHome) {
  Config c;
  c.home = "/h";
  EXPECT_EQ(config::expand_home("~", c, "k"), "/h");
  EXPECT_EQ(config::expand_home("~/a/b", c, "k"), "/h/a/b");
  EXPECT_EQ(config::expand_home("/abs", c, "k"), "/abs");
  EXPECT_EQ(config::expand_home("rel/~", c, "k"), "rel/~");
}

}  // namespace
}  // namespace sf
