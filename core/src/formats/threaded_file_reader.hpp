// Reads a file on a thread of its own, so that reading, hashing and decompressing run in parallel
// with whoever consumes the bytes (the tar parser and the disk writes of extract_archive), as
// `zstd -d | tar -x` gets from two processes. The thread hashes every byte of the file (sha256,
// when asked) and, when the file is a zstd stream, decompresses it; the consumer takes chunks of
// the (decompressed) stream with next(). finish() stops the consumer side, reads and hashes what
// is left of the file, and returns the hash of the whole file.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

namespace sf {

class ThreadedFileReader {
 public:
  // Takes over nothing: `fd` stays the caller's and must outlive this reader. Starts the thread.
  // With `decompress_zstd`, a file starting with the zstd magic number is decompressed.
  ThreadedFileReader(int fd, bool hash, bool decompress_zstd);
  ~ThreadedFileReader();
  ThreadedFileReader(const ThreadedFileReader&) = delete;
  ThreadedFileReader& operator=(const ThreadedFileReader&) = delete;

  // The next chunk of the stream in `*data` (valid until the next call): its size, 0 at the end,
  // -1 on an error (see error()).
  ssize_t next(const void** data);
  const std::string& error() const;
  // Whether the file is being decompressed (it started with the zstd magic number).
  bool decompressing() const;
  // Stops handing out chunks, reads the rest of the file, joins the thread; the sha256 (hex) of
  // the whole file, "" when hashing was not asked for or the file could not be read to its end.
  std::string finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sf
