// unpack_cache_entry: one pass over the tarball (its sha256 computed while extracting), and nothing
// from an entry whose tarball is not the signed one remains, in a fresh or a populated destination.
#include "cache/cache_entry.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "../support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

const CacheEntryKey kKey{"debian-trixie", "x86_64", "pkg", "1.0", std::string(64, 'c')};

CacheEntryFiles pack(const fs::path& dir, const std::string& name, char fill) {
  const fs::path tree = dir / ("tree-" + name);
  test::write_file(tree / "lib/libp.so.1", std::string(200000, fill));
  test::write_file(tree / "bin/p", "#!/bin/sh\n");
  CacheManifest m;
  m.name = kKey.name;
  m.version = kKey.version;
  m.hash = kKey.hash;
  m.toolchain = kKey.toolchain;
  m.arch = kKey.arch;
  auto files = pack_cache_entry(tree, m, dir / name, nullptr);
  if (!files) throw std::runtime_error(files.error().message);
  return *files;
}

size_t count_entries(const fs::path& d) {
  size_t n = 0;
  for (auto it = fs::recursive_directory_iterator(d); it != fs::end(it); ++it) ++n;
  return n;
}

EntryTrustPolicy unsigned_ok() {
  EntryTrustPolicy p;
  p.allow_unsigned = true;
  return p;
}

TEST(CacheEntry, UnpacksIntoFreshAndPopulatedDestinations) {
  test::TempDir dir;
  auto files = pack(dir.path(), "good", 'a');
  ASSERT_TRUE(unpack_cache_entry(files, unsigned_ok(), dir / "fresh"));
  EXPECT_EQ(fs::file_size(dir / "fresh/lib/libp.so.1"), 200000U);
  test::write_file(dir / "full/lib/other.so", "other");
  test::write_file(dir / "full/bin/p", "old");
  auto m = unpack_cache_entry(files, unsigned_ok(), dir / "full");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(test::read_file(dir / "full/lib/other.so"), "other");
  EXPECT_EQ(test::read_file(dir / "full/bin/p"), "#!/bin/sh\n");
  EXPECT_EQ(fs::file_size(dir / "full/lib/libp.so.1"), 200000U);
  for (const auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename().string().find(".sf-unpack"), std::string::npos) << e.path();
}

// A tarball replaced by another valid one of the same size (the size check passes, every entry
// decodes): refused by the sha256 computed during the single pass; nothing of it remains.
TEST(CacheEntry, TamperedTarballDuringSinglePassExtractionLeavesNothing) {
  test::TempDir dir;
  auto files = pack(dir.path(), "good", 'a');
  auto other = pack(dir.path(), "other", 'b');
  ASSERT_EQ(fs::file_size(files.tarball), fs::file_size(other.tarball));
  fs::copy_file(other.tarball, files.tarball, fs::copy_options::overwrite_existing);

  auto r = unpack_cache_entry(files, unsigned_ok(), dir / "fresh");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("tampered or corrupt"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(dir / "fresh"));

  test::write_file(dir / "full/keep", "mine");
  r = unpack_cache_entry(files, unsigned_ok(), dir / "full");
  ASSERT_FALSE(r);
  EXPECT_EQ(count_entries(dir / "full"), 1U);
  EXPECT_EQ(test::read_file(dir / "full/keep"), "mine");
  for (const auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename().string().find(".sf-unpack"), std::string::npos) << e.path();

  // verify_cache_entry (the chain's check before a hit is used) names the mismatch too.
  auto v = verify_cache_entry(files, unsigned_ok());
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("sha256"), std::string::npos);
}

// The signed manifest's totals are the caps of the extraction: a tarball that unpacks to more
// bytes than its manifest declares stops at the cap (before the tarball's sha256 is even known),
// and nothing of it remains. Here the manifest understates one file's size.
TEST(CacheEntry, ExtractionStopsAtTheBytesTheManifestDeclares) {
  test::TempDir dir;
  auto files = pack(dir.path(), "good", 'a');
  auto j = nlohmann::json::parse(test::read_file(files.manifest));
  bool edited = false;
  for (auto& f : j.at("files")) {
    if (f.at("path") == "lib/libp.so.1") {
      f["size"] = 1000;
      edited = true;
    }
  }
  ASSERT_TRUE(edited) << j.dump();
  std::ofstream(files.manifest, std::ios::trunc) << j.dump();
  auto r = unpack_cache_entry(files, unsigned_ok(), dir / "fresh");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cap"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(dir / "fresh"));
}

TEST(CacheEntry, AKeyThatLeavesTheLayoutIsNeitherPackedNorAccepted) {
  test::TempDir dir;
  test::write_file(dir / "tree/bin/p", "#!/bin/sh\n");
  CacheManifest m;
  m.name = "../../../escaped";
  m.version = "1.0";
  m.hash = std::string(64, 'c');
  m.toolchain = "debian-trixie";
  m.arch = "x86_64";
  EXPECT_FALSE(pack_cache_entry(dir / "tree", m, dir / "out" / "a" / "b", nullptr));
  EXPECT_FALSE(fs::exists(dir / "escaped-1.0-cccccccccccc.tar.zst"));
  EXPECT_FALSE(fs::exists(dir / "out" / "escaped-1.0-cccccccccccc.tar.zst"));

  // A manifest (unsigned, allowed) that names such a key is proven bad, not trusted.
  auto files = pack(dir.path(), "good", 'a');
  auto text = test::read_file(files.manifest);
  text.replace(text.find("\"name\": \"pkg\""), 13, "\"name\": \"../pkg\"");
  test::write_file(files.manifest, text);
  auto v = verify_cache_entry(files, unsigned_ok());
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().kind, Failure::Kind::kError) << v.error().message;
}

}  // namespace
}  // namespace sf
