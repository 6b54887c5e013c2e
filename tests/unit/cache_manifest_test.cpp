#include "cache/cache_manifest.hpp"

#include <gtest/gtest.h>

namespace sf {
namespace {

TEST(CacheEntryKey, BuildsAndParsesKeys) {
  CacheEntryKey k{"debian-bookworm", "x86_64", "json-c", "0.17", std::string(64, 'f')};
  EXPECT_EQ(k.tarball(), "debian-bookworm/x86_64/json-c-0.17-ffffffffffff.tar.zst");
  auto p = CacheEntryKey::parse(k.signature());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->name, "json-c");
  EXPECT_EQ(p->version, "0.17");
  EXPECT_EQ(p->hash, "ffffffffffff");
  EXPECT_FALSE(CacheEntryKey::parse("index.json"));
  EXPECT_FALSE(CacheEntryKey::parse("a/b/noversion-abc"));
}

TEST(CacheEntryKey, KeysFromListingsAreValidatedAgainstTheLayout) {
  // Hostile or malformed keys a remote listing (or index.json) can hand back: all refused.
  const char* hostile[] = {
      "../x86_64/slurm-24.11.5-0123456789ab.tar.zst",
      "debian-trixie/../slurm-24.11.5-0123456789ab.manifest.json",
      "debian-trixie/x86_64/..-1-0123456789ab.tar.zst",
      "debian-trixie/x86_64/.hidden-1-0123456789ab.tar.zst",
      "/etc/x86_64/slurm-24.11.5-0123456789ab.tar.zst",
      "debian-trixie/x86_64/slurm-24.11.5-0123456789AB.tar.zst",
      "debian-trixie/x86_64/slurm-24.11.5-0123456789zz.tar.zst",
      "debian-trixie/x86_64/sl urm-24.11.5-0123456789ab.tar.zst",
      "debian-trixie/x86_64/slurm-24.11.5\n-0123456789ab.tar.zst",
      "debian-trixie/x86_64/slurm-$(id)-0123456789ab.tar.zst",
      "debian-trixie/x86\\64/slurm-24.11.5-0123456789ab.tar.zst",
      "debian-trixie/x86_64/slurm-..-0123456789ab.tar.zst",
      "a/b/c/slurm-24.11.5-0123456789ab.tar.zst",
  };
  for (const char* k : hostile) EXPECT_FALSE(CacheEntryKey::parse(k)) << k;
  EXPECT_TRUE(CacheEntryKey::parse("debian-trixie/x86_64/pmix-5.0.8-0123456789ab.tar.zst"));
  EXPECT_TRUE(
      CacheEntryKey::parse("rocky-9/aarch64/slurm_lib-1.0+g1~rc2-0123456789ab.manifest.json"));
}

TEST(CacheManifest, CanonicalJsonRoundTrips) {
  CacheManifest m;
  m.name = "munge";
  m.version = "0.5.16";
  m.hash = std::string(64, '1');
  m.toolchain = "rocky-9";
  m.arch = "x86_64";
  m.dependencies = {{"openssl", std::string(64, '2')}};
  m.features = {"gpu-cuda"};
  m.files = {{"bin/munge", "file", 10, 0755, std::string(64, '3'), ""},
             {"lib/libmunge.so", "symlink", 0, 0777, "", "libmunge.so.2"}};
  m.tarball_sha256 = std::string(64, '4');
  m.tarball_size = 1234;
  m.is_signed = true;
  const auto text = m.to_json();
  auto back = CacheManifest::parse(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->to_json(), text);
  EXPECT_EQ(back->files.at(1).link_target, "libmunge.so.2");
  EXPECT_LT(text.find("\"arch\""), text.find("\"build_time\""));  // sorted keys
}

TEST(CacheManifest, RejectsOtherFormatsAndGarbage) {
  EXPECT_FALSE(CacheManifest::parse("{not json"));
  auto f = CacheManifest::parse(R"({"format": 2})");
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("upgrade"), std::string::npos);
}

}  // namespace
}  // namespace sf
