#include "engine_api/log_frame_demuxer.hpp"

#include <algorithm>
#include <string>

#include "slurm_factory/errors.hpp"

namespace sf {

LogFrameDemuxer::LogFrameDemuxer(OutputSink sink, bool raw) : sink_(std::move(sink)), raw_(raw) {}

void LogFrameDemuxer::feed(std::string_view chunk) {
  if (raw_) {
    if (!chunk.empty() && sink_) sink_(Stream::kStdout, chunk);
    return;
  }
  while (!chunk.empty()) {
    if (remaining_ > 0) {
      const std::size_t n = std::min<std::size_t>(remaining_, chunk.size());
      if (sink_) sink_(current_, chunk.substr(0, n));
      remaining_ -= static_cast<std::uint32_t>(n);
      chunk.remove_prefix(n);
      continue;
    }
    const std::size_t need = header_.size() - header_fill_;
    const std::size_t n = std::min(need, chunk.size());
    for (std::size_t i = 0; i < n; ++i)
      header_[header_fill_ + i] = static_cast<unsigned char>(chunk[i]);
    header_fill_ += n;
    chunk.remove_prefix(n);
    if (header_fill_ < header_.size()) break;
    header_fill_ = 0;
    const unsigned char stream = header_[0];
    // 0 = stdin (written back by the engine as stdout), 1 = stdout, 2 = stderr, 3 = system error.
    if (stream > 3 || header_[1] != 0 || header_[2] != 0 || header_[3] != 0) {
      throw ContainerError("malformed frame header in the engine's output stream",
                           {{"header byte 0", std::to_string(stream)}},
                           "the container was probably created with a TTY; read its output raw");
    }
    current_ = stream == 2 || stream == 3 ? Stream::kStderr : Stream::kStdout;
    remaining_ = (static_cast<std::uint32_t>(header_[4]) << 24U) |
                 (static_cast<std::uint32_t>(header_[5]) << 16U) |
                 (static_cast<std::uint32_t>(header_[6]) << 8U) |
                 static_cast<std::uint32_t>(header_[7]);
  }
}

}  // namespace sf
