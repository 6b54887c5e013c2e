// ThreadedFileReader: the consumer gets the file's bytes (decompressed when it is zstd), the hash
// covers every byte of the file even when the consumer stops early, and a damaged zstd stream is an
// error, not a short read.
#include "formats/threaded_file_reader.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "../support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

struct Fd {
  explicit Fd(const fs::path& p) : fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  int fd;
};

std::string random_text(std::size_t n) {
  std::mt19937 rng(42);
  std::string s(n, ' ');
  for (auto& c : s) c = static_cast<char>('a' + rng() % 8);  // compressible, not trivially
  return s;
}

std::string sha256_of(const fs::path& p) {
  const fs::path out = p.string() + ".sum";
  const std::string cmd = "sha256sum '" + p.string() + "' | cut -d' ' -f1 > '" + out.string() + "'";
  if (std::system(cmd.c_str()) != 0) return {};
  std::ifstream in(out);
  std::string s;
  in >> s;
  return s;
}

// Everything next() hands out, or "<error: ...>".
std::string drain(ThreadedFileReader& r) {
  std::string out;
  for (;;) {
    const void* data = nullptr;
    const ssize_t n = r.next(&data);
    if (n < 0) return "<error: " + r.error() + ">";
    if (n == 0) return out;
    out.append(static_cast<const char*>(data), static_cast<std::size_t>(n));
  }
}

TEST(ThreadedFileReader, PassesAPlainFileThroughAndHashesIt) {
  test::TempDir dir;
  const std::string text = random_text(3 * 1024 * 1024 + 17);
  test::write_file(dir.path() / "plain", text);
  Fd fd(dir.path() / "plain");
  ThreadedFileReader r(fd.fd, true, true);
  EXPECT_FALSE(r.decompressing());
  EXPECT_EQ(drain(r), text);
  EXPECT_EQ(r.finish(), sha256_of(dir.path() / "plain"));
}

TEST(ThreadedFileReader, DecompressesZstdAndHashesTheCompressedBytes) {
  test::TempDir dir;
  const std::string text = random_text(5 * 1024 * 1024 + 3);
  test::write_file(dir.path() / "t", text);
  ASSERT_EQ(std::system(("zstd -q -3 -o '" + (dir.path() / "t.zst").string() + "' '" +
                         (dir.path() / "t").string() + "'")
                            .c_str()),
            0);
  Fd fd(dir.path() / "t.zst");
  ThreadedFileReader r(fd.fd, true, true);
  EXPECT_TRUE(r.decompressing());
  EXPECT_EQ(drain(r), text);
  EXPECT_EQ(r.finish(), sha256_of(dir.path() / "t.zst"));
}

TEST(ThreadedFileReader, StoppingEarlyStillHashesTheWholeFile) {
  test::TempDir dir;
  test::write_file(dir.path() / "big", random_text(6 * 1024 * 1024));
  Fd fd(dir.path() / "big");
  ThreadedFileReader r(fd.fd, true, false);
  const void* data = nullptr;
  ASSERT_GT(r.next(&data), 0);  // one chunk, then stop: the thread may be blocked on a full queue
  EXPECT_EQ(r.finish(), sha256_of(dir.path() / "big"));
  EXPECT_EQ(r.next(&data), 0);  // nothing more after finish()
}

TEST(ThreadedFileReader, ATruncatedOrCorruptZstdStreamIsAnError) {
  test::TempDir dir;
  test::write_file(dir.path() / "t", random_text(2 * 1024 * 1024));
  ASSERT_EQ(std::system(("zstd -q -o '" + (dir.path() / "t.zst").string() + "' '" +
                         (dir.path() / "t").string() + "'")
                            .c_str()),
            0);
  const auto size = fs::file_size(dir.path() / "t.zst");
  fs::copy_file(dir.path() / "t.zst", dir.path() / "cut.zst");
  fs::resize_file(dir.path() / "cut.zst", size / 2);
  {
    Fd fd(dir.path() / "cut.zst");
    ThreadedFileReader r(fd.fd, false, true);
    EXPECT_NE(drain(r).find("<error: zstd: "), std::string::npos);
    EXPECT_EQ(r.finish(), "");  // no hash asked for
  }
  {
    std::string bytes(size, '\0');
    std::ifstream(dir.path() / "t.zst", std::ios::binary)
        .read(bytes.data(), static_cast<std::streamsize>(size));
    bytes[size / 2] = static_cast<char>(bytes[size / 2] ^ 0x5a);
    test::write_file(dir.path() / "flip.zst", bytes);
    Fd fd(dir.path() / "flip.zst");
    ThreadedFileReader r(fd.fd, true, true);
    EXPECT_NE(drain(r).find("<error: zstd: "), std::string::npos);
    EXPECT_EQ(r.finish(), sha256_of(dir.path() / "flip.zst"));  // hashed to the end anyway
  }
}

}  // namespace
}  // namespace sf
