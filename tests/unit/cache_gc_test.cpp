// cache gc: grouping objects into entries, the LRU plan (older-than, max-size, orphans), and a run
// on a real local layer (the cache-local plugin) where the manifest goes first.
#include "cache/cache_gc.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "../support/cache_fixture.hpp"

namespace sf {
namespace {

CacheObject obj(const std::string& key, std::uint64_t size, std::int64_t mtime) {
  return {key, size, mtime};
}

std::vector<CacheObject> entry_objects(const std::string& base, std::uint64_t size,
                                       std::int64_t mtime) {
  return {obj(base + ".tar.zst", size, mtime), obj(base + ".manifest.json", 10, mtime - 5),
          obj(base + ".manifest.json.asc", 5, mtime - 5)};
}

TEST(CacheGc, GroupsTheThreeObjectsOfAnEntry) {
  auto objects = entry_objects("tc/x86_64/a-1.0-aaaaaaaaaaaa", 100, 1000);
  objects.push_back(obj("tc/x86_64/index.json", 7, 5000));
  objects.push_back(obj("index.json", 7, 5000));
  objects.push_back(obj("tc/x86_64/b-1.0-bbbbbbbbbbbb.tar.zst", 50, 10));  // no manifest
  auto entries = group_cache_entries(objects);
  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries[0].base, "tc/x86_64/a-1.0-aaaaaaaaaaaa");
  EXPECT_EQ(entries[0].size, 115U);
  EXPECT_EQ(entries[0].last_use, 1000);
  EXPECT_TRUE(entries[0].complete);
  // The manifest is removed first.
  EXPECT_EQ(entries[0].keys.front(), "tc/x86_64/a-1.0-aaaaaaaaaaaa.manifest.json");
  EXPECT_EQ(entries[0].keys.back(), "tc/x86_64/a-1.0-aaaaaaaaaaaa.tar.zst");
  EXPECT_FALSE(entries[1].complete);
}

TEST(CacheGc, OlderThanRemovesOnlyEntriesUnusedLongEnough) {
  std::vector<CacheObject> objects;
  for (auto& o : entry_objects("t/a/old-1-aaaaaaaaaaaa", 100, 1000)) objects.push_back(o);
  for (auto& o : entry_objects("t/a/new-1-bbbbbbbbbbbb", 100, 9000)) objects.push_back(o);
  CacheGcOptions opt;
  opt.now = 10000;
  opt.older_than_seconds = 5000;
  auto plan = plan_cache_gc(group_cache_entries(objects), opt);
  ASSERT_EQ(plan.removed.size(), 1U);
  EXPECT_EQ(plan.removed[0].base, "t/a/old-1-aaaaaaaaaaaa");
  EXPECT_EQ(plan.kept, 1U);
  EXPECT_EQ(plan.size_before, 230U);
  EXPECT_EQ(plan.size_after, 115U);
}

TEST(CacheGc, MaxSizeRemovesLeastRecentlyUsedFirstUntilItFits) {
  std::vector<CacheObject> objects;
  for (auto& o : entry_objects("t/a/c-1-cccccccccccc", 85, 3000)) objects.push_back(o);
  for (auto& o : entry_objects("t/a/a-1-aaaaaaaaaaaa", 85, 1000)) objects.push_back(o);
  for (auto& o : entry_objects("t/a/b-1-bbbbbbbbbbbb", 85, 2000)) objects.push_back(o);
  CacheGcOptions opt;
  opt.now = 4000;
  opt.max_size = 150;  // each entry is 100 bytes: two must go
  auto plan = plan_cache_gc(group_cache_entries(objects), opt);
  ASSERT_EQ(plan.removed.size(), 2U);
  EXPECT_EQ(plan.removed[0].base, "t/a/a-1-aaaaaaaaaaaa");
  EXPECT_EQ(plan.removed[1].base, "t/a/b-1-bbbbbbbbbbbb");
  EXPECT_EQ(plan.size_after, 100U);
  opt.max_size = 300;  // fits: nothing goes
  EXPECT_TRUE(plan_cache_gc(group_cache_entries(objects), opt).removed.empty());
}

TEST(CacheGc, IncompleteEntriesGoOnlyAfterTheGracePeriod) {
  std::vector<CacheObject> objects{obj("t/a/x-1-aaaaaaaaaaaa.tar.zst", 10, 9000),
                                   obj("t/a/y-1-bbbbbbbbbbbb.tar.zst", 10, 1000)};
  CacheGcOptions opt;
  opt.now = 10000;
  opt.max_size = 0;  // even a size limit does not remove a write in flight
  auto plan = plan_cache_gc(group_cache_entries(objects), opt);
  ASSERT_EQ(plan.removed.size(), 1U);
  EXPECT_EQ(plan.removed[0].base, "t/a/y-1-bbbbbbbbbbbb");
}

TEST(CacheGc, RunsOnARealLocalLayerAndHonoursDryRun) {
  test::TempDir dir("sf-gc");
  auto layer = test::make_layer("local", "local", "file://" + (dir / "cache").string());
  const auto old_key = test::sample_key("old", "a");
  const auto new_key = test::sample_key("new", "b");
  for (const auto& k : {old_key, new_key}) {
    auto files = test::make_entry(dir.path(), k, nullptr);
    ASSERT_TRUE(layer->put(k.tarball(), files.tarball));
    ASSERT_TRUE(layer->put(k.manifest(), files.manifest));
  }
  // Make "old" look unused for 10 days.
  const auto ten_days_ago = std::filesystem::file_time_type::clock::now() - std::chrono::hours(240);
  for (const auto& k : {old_key.tarball(), old_key.manifest()})
    std::filesystem::last_write_time(dir / "cache" / k, ten_days_ago);
  CacheGcOptions opt;
  opt.older_than_seconds = 5 * 86400;
  opt.dry_run = true;
  auto dry = run_cache_gc(*layer, opt);
  ASSERT_TRUE(dry) << dry.error().message;
  ASSERT_EQ(dry->removed.size(), 1U);
  EXPECT_EQ(dry->removed[0].base, old_key.base());
  EXPECT_TRUE(*layer->has(old_key.manifest()));
  opt.dry_run = false;
  auto done = run_cache_gc(*layer, opt);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_FALSE(*layer->has(old_key.manifest()));
  EXPECT_FALSE(*layer->has(old_key.tarball()));
  EXPECT_TRUE(*layer->has(new_key.manifest()));
  EXPECT_TRUE(*layer->has(new_key.tarball()));
}

pid_t gone_pid() {
  const pid_t p = ::fork();
  if (p == 0) ::_exit(0);
  int st = 0;
  ::waitpid(p, &st, 0);
  return p;
}

TEST(CacheGc, SweepsWhatKilledRunsLeftAndKeepsWhatLiveOnesUse) {
  namespace fs = std::filesystem;
  test::TempDir dir("sf-gc-sweep");
  const fs::path cache = dir / "cache";
  const fs::path layer_root = cache / "binary";
  auto layer = test::make_layer("local", "local", "file://" + layer_root.string());
  const auto key = test::sample_key("kept", "a");
  auto files = test::make_entry(dir.path(), key, nullptr);
  ASSERT_TRUE(layer->put(key.tarball(), files.tarball));
  ASSERT_TRUE(layer->put(key.manifest(), files.manifest));
  const std::string dead = ".sf-tmp-" + std::to_string(gone_pid()) + "-";
  const std::string live = ".sf-tmp-" + std::to_string(::getpid()) + "-";
  const fs::path entry_dir = layer_root / "debian-bookworm/x86_64";
  const std::vector<fs::path> left = {
      entry_dir / (dead + "7-12345-other-1.0-bbbbbbbbbbbb.tar.zst"),  // a put killed mid-copy
      cache / "tmp" / (dead + "Xy12Zq") / "debian-bookworm/x86_64/a.tar.zst",  // pull scratch
      cache / "work" / ("20260101T000000Z-" + std::to_string(gone_pid())) / "entries/x",
      cache / "work" / ".trash-20260101T000000Z-1" / "view/bin/x",
      cache / "sourcecache" / "ab" / (dead + "slurm.tar.bz2.Q1w2e3"),
  };
  const std::vector<fs::path> kept = {
      entry_dir / (live + "8-1-inflight.tar.zst"),
      cache / "work" / ("20260101T000000Z-" + std::to_string(::getpid())) / "entries/y",
      cache / "sourcecache" / ".partial" / "cd.part",  // young: may be resumed
  };
  for (const auto& p : left) test::write_file(p, "x");
  for (const auto& p : kept) test::write_file(p, "x");
  test::write_file(cache / "sourcecache" / ".partial" / "ef.part", "x");
  fs::last_write_time(cache / "sourcecache" / ".partial" / "ef.part",
                      fs::file_time_type::clock::now() - std::chrono::hours(48));

  EXPECT_GE(sweep_interrupted_writes(cache, layer_root), left.size() + 1);
  for (const auto& p : left) EXPECT_FALSE(fs::exists(p)) << p;
  EXPECT_FALSE(fs::exists(cache / "sourcecache" / ".partial" / "ef.part"));
  EXPECT_FALSE(fs::exists(cache / "work" / ".trash-20260101T000000Z-1"));
  for (const auto& p : kept) EXPECT_TRUE(fs::exists(p)) << p;
  EXPECT_TRUE(*layer->has(key.manifest()));
  EXPECT_TRUE(*layer->has(key.tarball()));

  // The local layer never lists temp files, and a later write beside one of a dead writer
  // removes it.
  auto listed = layer->list("");
  ASSERT_TRUE(listed);
  for (const auto& o : *listed) EXPECT_EQ(o.key.find(".sf-tmp-"), std::string::npos) << o.key;
  test::write_file(entry_dir / (dead + "9-9-x.tar.zst"), "half");
  ASSERT_TRUE(layer->put(key.tarball(), files.tarball));
  EXPECT_FALSE(fs::exists(entry_dir / (dead + "9-9-x.tar.zst")));
}

}  // namespace
}  // namespace sf
