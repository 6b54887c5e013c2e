// write_file_atomically replaces a file whole or not at all; read_file reads one whole; to_hex
// spells digests.
#include "support/file_io.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/temp_dir.hpp"

namespace fs = std::filesystem;

TEST(FileIo, WritesAtomicallyAndLeavesNoTempFile) {
  sf::test::TempDir dir;
  const fs::path f = dir.path() / "a.txt";
  sf::test::write_file(f, "old");
  EXPECT_EQ(sf::write_file_atomically(f, "new\n"), "");
  EXPECT_EQ(sf::test::read_file(f), "new\n");
  EXPECT_FALSE(fs::exists(dir.path() / "a.txt.tmp"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(FileIo, ReadFileReadsTheWholeFileOrNothing) {
  sf::test::TempDir dir;
  const fs::path f = dir.path() / "b.bin";
  sf::test::write_file(f, std::string("a\0b\n", 4));
  EXPECT_EQ(sf::read_file(f), std::string("a\0b\n", 4));
  EXPECT_EQ(sf::read_file(dir.path() / "missing"), "");
}

TEST(FileIo, AFailedWriteSaysWhatAndKeepsTheOldFile) {
  sf::test::TempDir dir;
  const fs::path target = dir.path() / "is-a-dir";
  fs::create_directories(target / "child");  // a non-empty directory cannot be renamed over
  const std::string problem = sf::write_file_atomically(target, "x");
  EXPECT_NE(problem.find("cannot rename"), std::string::npos) << problem;
  EXPECT_TRUE(fs::is_directory(target / "child"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  EXPECT_NE(sf::write_file_atomically(dir.path() / "missing/dir/f", "x").find("cannot write"),
            std::string::npos);
}

TEST(FileIo, ToHex) {
  const unsigned char bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(sf::to_hex(bytes, sizeof bytes), "000fa5ff");
  EXPECT_EQ(sf::to_hex(bytes, 0), "");
}

namespace {

// A pid no process has: a child that has exited and been reaped.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

dev_t device_of(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_dev;
}

}  // namespace

TEST(FileIo, AtomicWriteUsesAPrivateRecognisableTempName) {
  sf::test::TempDir dir;
  const fs::path f = dir.path() / "SHA256SUMS";
  // A file at the old fixed temp name is neither used nor clobbered (it could be a link).
  sf::test::write_file(dir.path() / "SHA256SUMS.tmp", "someone else's");
  EXPECT_EQ(sf::write_file_atomically(f, "line\n"), "");
  EXPECT_EQ(sf::test::read_file(f), "line\n");
  EXPECT_EQ(sf::test::read_file(dir.path() / "SHA256SUMS.tmp"), "someone else's");
  for (const auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename().string().rfind(sf::kTempPrefix, 0), std::string::npos)
        << e.path();
}

TEST(FileIo, RenameOrCopyMovesAcrossFileSystems) {
  // /dev/shm is tmpfs, the test folder is on the root file system: a plain rename gets EXDEV.
  sf::test::TempDir here;
  const fs::path shm = fs::path("/dev/shm") / ("sf-io-" + std::to_string(::getpid()));
  fs::create_directories(shm);
  ASSERT_NE(device_of(shm), device_of(here.path())) << "needs two file systems";
  const fs::path from = shm / "entry.tar.zst";
  sf::test::write_file(from, std::string(3 << 20, 'z'));
  fs::permissions(from, fs::perms(0640));
  const fs::path to = here.path() / "entries" / "entry.tar.zst";
  fs::create_directories(to.parent_path());
  sf::test::write_file(to, "old");
  EXPECT_EQ(sf::rename_or_copy(from, to), "");
  EXPECT_EQ(fs::file_size(to), 3U << 20);
  EXPECT_EQ(fs::status(to).permissions() & fs::perms::all, fs::perms(0640));
  EXPECT_FALSE(fs::exists(from));
  for (const auto& e : fs::directory_iterator(to.parent_path()))
    EXPECT_EQ(e.path().filename(), "entry.tar.zst");  // no temp left
  // A failure says so and leaves the destination as it was.
  EXPECT_NE(sf::rename_or_copy(shm / "missing", to), "");
  EXPECT_EQ(fs::file_size(to), 3U << 20);
  fs::remove_all(shm);
}

TEST(FileIo, PrivateDirsAre0700UniqueAndRecognisable) {
  sf::test::TempDir dir;
  auto a = sf::make_private_dir(dir.path() / "tmp");
  auto b = sf::make_private_dir(dir.path() / "tmp");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(fs::status(*a).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(a->filename().string().rfind(
                std::string(sf::kTempPrefix) + std::to_string(::getpid()) + "-", 0),
            0U)
      << *a;
}

TEST(FileIo, StaleTempsOfDeadProcessesAreRemovedLiveOnesKept) {
  sf::test::TempDir dir;
  const std::string dead = std::string(sf::kTempPrefix) + std::to_string(dead_pid()) + "-";
  const std::string live = std::string(sf::kTempPrefix) + std::to_string(::getpid()) + "-";
  sf::test::write_file(dir / (dead + "x.tar.zst.abc123"), "half");
  sf::test::write_file(dir / (dead + "Qw3rty/t/a.tar.zst"), "half");
  sf::test::write_file(dir / (live + "y.abc123"), "in flight");
  sf::test::write_file(dir / "sub" / (dead + "z"), "deep");
  sf::test::write_file(dir / "keep.tar.zst", "data");
  EXPECT_EQ(sf::remove_stale_temps(dir.path(), false), 2U);
  EXPECT_TRUE(fs::exists(dir / (live + "y.abc123")));
  EXPECT_TRUE(fs::exists(dir / "keep.tar.zst"));
  EXPECT_TRUE(fs::exists(dir / "sub" / (dead + "z")));
  EXPECT_EQ(sf::remove_stale_temps(dir.path(), true), 1U);
  EXPECT_FALSE(fs::exists(dir / "sub" / (dead + "z")));
  // A live process's temp goes only after the grace period.
  EXPECT_TRUE(sf::is_stale_temp(live + "y", 0, 100000, 3600));
  EXPECT_FALSE(sf::is_stale_temp(live + "y", 99000, 100000, 3600));
  EXPECT_FALSE(sf::is_stale_temp("y.tar.zst", 0, 100000, 3600));
}
