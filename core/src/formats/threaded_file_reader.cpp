#include "formats/threaded_file_reader.hpp"

#include <unistd.h>
#include <zstd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "slurm_factory/digest.hpp"
#include "support/file_io.hpp"

namespace sf {
namespace {

constexpr std::size_t kChunk = 1 << 20;
constexpr std::size_t kQueued = 8;  // chunks waiting for the consumer, at most

struct Chunk {
  std::vector<char> bytes;
  std::size_t size = 0;
  enum class Kind { kData, kEnd, kError } kind = Kind::kData;
};

}  // namespace

struct ThreadedFileReader::Impl {
  int fd;
  bool decompress = false;
  std::unique_ptr<Sha256> md;
  std::string digest;
  bool read_failed = false;

  std::mutex m;
  std::condition_variable cv;
  std::deque<Chunk> queue;
  std::vector<std::vector<char>> free_buffers;
  bool stopping = false;

  Chunk current;
  std::string error;
  std::thread thread;
  bool finished = false;

  std::vector<char> buffer() {
    std::lock_guard lock(m);
    if (free_buffers.empty()) return std::vector<char>(kChunk);
    auto b = std::move(free_buffers.back());
    free_buffers.pop_back();
    return b;
  }
  // Queues a chunk for the consumer; false when the consumer has stopped (the chunk is dropped).
  bool push(Chunk c) {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return stopping || queue.size() < kQueued; });
    if (stopping) return false;
    queue.push_back(std::move(c));
    cv.notify_all();
    return true;
  }
  void push_error(const std::string& what) {
    Chunk c;
    c.kind = Chunk::Kind::kError;
    c.bytes.assign(what.begin(), what.end());
    push(std::move(c));
  }

  void run() {
    std::vector<char> in(kChunk);
    ZSTD_DCtx* dctx = decompress ? ZSTD_createDCtx() : nullptr;
    bool output = true;    // false after a decompression error or when the consumer stopped
    std::size_t last = 0;  // ZSTD_decompressStream's last answer: 0 at the end of a frame
    bool any_input = false;
    for (;;) {
      const ssize_t n = ::read(fd, in.data(), in.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        read_failed = true;
        if (output) push_error(std::string("read error: ") + std::strerror(errno));
        output = false;
        break;
      }
      if (n == 0) break;
      any_input = true;
      const auto size = static_cast<std::size_t>(n);
      if (md != nullptr) md->update(in.data(), size);
      if (!output) continue;  // only hashing the rest
      if (dctx == nullptr) {
        Chunk c;
        c.bytes = buffer();
        std::memcpy(c.bytes.data(), in.data(), size);
        c.size = size;
        output = push(std::move(c));
        continue;
      }
      ZSTD_inBuffer ib{in.data(), size, 0};
      bool full = false;
      while (output && (ib.pos < ib.size || full)) {
        Chunk c;
        c.bytes = buffer();
        ZSTD_outBuffer ob{c.bytes.data(), c.bytes.size(), 0};
        last = ZSTD_decompressStream(dctx, &ob, &ib);
        if (ZSTD_isError(last)) {
          push_error(std::string("zstd: ") + ZSTD_getErrorName(last));
          output = false;
          break;
        }
        full = ob.pos == ob.size;
        c.size = ob.pos;
        if (c.size > 0) {
          output = push(std::move(c));
        } else {
          std::lock_guard lock(m);
          free_buffers.push_back(std::move(c.bytes));
        }
      }
    }
    if (output) {
      if (dctx != nullptr && (last != 0 || !any_input)) {
        push_error("zstd: the compressed stream ends in the middle of a frame (truncated)");
      } else {
        Chunk end;
        end.kind = Chunk::Kind::kEnd;
        push(std::move(end));
      }
    }
    if (dctx != nullptr) ZSTD_freeDCtx(dctx);
    if (md != nullptr && !read_failed) digest = md->hex();
  }
};

ThreadedFileReader::ThreadedFileReader(int fd, bool hash, bool decompress_zstd)
    : impl_(std::make_unique<Impl>()) {
  impl_->fd = fd;
  if (hash) impl_->md = std::make_unique<Sha256>();
  if (decompress_zstd) {
    unsigned char magic[4] = {0, 0, 0, 0};
    if (::pread(fd, magic, sizeof magic, 0) == 4) {
      impl_->decompress =
          magic[0] == 0x28 && magic[1] == 0xB5 && magic[2] == 0x2F && magic[3] == 0xFD;
    }
  }
  impl_->thread = std::thread([this] { impl_->run(); });
}

ThreadedFileReader::~ThreadedFileReader() { finish(); }

ssize_t ThreadedFileReader::next(const void** data) {
  Impl& s = *impl_;
  std::unique_lock lock(s.m);
  if (!s.current.bytes.empty()) s.free_buffers.push_back(std::move(s.current.bytes));
  s.current = Chunk{};
  if (!s.error.empty()) return -1;
  if (s.finished) return 0;
  s.cv.wait(lock, [&] { return !s.queue.empty(); });
  s.current = std::move(s.queue.front());
  s.queue.pop_front();
  s.cv.notify_all();
  switch (s.current.kind) {
    case Chunk::Kind::kEnd:
      s.queue.push_front(Chunk{{}, 0, Chunk::Kind::kEnd});  // later calls see the end again
      return 0;
    case Chunk::Kind::kError:
      s.error.assign(s.current.bytes.begin(), s.current.bytes.end());
      s.current = Chunk{};
      return -1;
    case Chunk::Kind::kData:
      break;
  }
  *data = s.current.bytes.data();
  return static_cast<ssize_t>(s.current.size);
}

const std::string& ThreadedFileReader::error() const { return impl_->error; }

bool ThreadedFileReader::decompressing() const { return impl_->decompress; }

std::string ThreadedFileReader::finish() {
  Impl& s = *impl_;
  if (!s.finished) {
    {
      std::lock_guard lock(s.m);
      s.stopping = true;
      s.queue.clear();
      s.cv.notify_all();
    }
    if (s.thread.joinable()) s.thread.join();
    s.finished = true;
  }
  return s.digest;
}

}  // namespace sf
