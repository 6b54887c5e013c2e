// The Engine API's multiplexed stream format (moby pkg/stdcopy): when a container has no TTY, its
// attach/logs/exec output arrives as frames of an 8-byte header [stream, 0, 0, 0, size (big-endian
// uint32)] followed by `size` bytes. This demultiplexer is fed arbitrary chunks (a frame may be cut
// anywhere, even inside its header) and forwards each payload piece to the sink as soon as it has
// it. With a TTY the stream is raw; `raw` mode forwards everything as stdout.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "slurm_factory/container_backend.hpp"

namespace sf {

class LogFrameDemuxer {
 public:
  explicit LogFrameDemuxer(OutputSink sink, bool raw = false);

  // Feeds the next chunk of the stream. Throws ContainerError on a malformed header.
  void feed(std::string_view chunk);
  // True when the stream ended on a frame boundary (no partial header or payload pending).
  bool at_boundary() const { return header_fill_ == 0 && remaining_ == 0; }

 private:
  OutputSink sink_;
  bool raw_;
  std::array<unsigned char, 8> header_{};
  std::size_t header_fill_ = 0;
  std::uint32_t remaining_ = 0;  // payload bytes still to come for the current frame
  Stream current_ = Stream::kStdout;
};

}  // namespace sf
