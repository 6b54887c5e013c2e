#include "support/live_tail.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <iostream>
#include <ostream>

namespace sf {
namespace {

std::size_t terminal_columns(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 100;
}

int descriptor_of(const std::ostream& out) {
  if (&out == &std::cout) return STDOUT_FILENO;
  if (&out == &std::cerr || &out == &std::clog) return STDERR_FILENO;
  return -1;
}

}  // namespace

bool stream_is_terminal(const std::ostream& out) {
  const int fd = descriptor_of(out);
  return fd >= 0 && ::isatty(fd) == 1;
}

LiveTail::LiveTail(std::ostream& out, bool terminal, std::size_t lines, std::string prefix)
    : out_(out),
      terminal_(terminal),
      max_lines_(lines == 0 ? 1 : lines),
      prefix_(std::move(prefix)),
      width_(100) {
  const int fd = descriptor_of(out);
  if (terminal_ && fd >= 0) width_ = terminal_columns(fd);
}

LiveTail::~LiveTail() {
  try {
    finish();
  } catch (...) {  // NOLINT(bugprone-empty-catch): never throw from a destructor
  }
}

std::string LiveTail::fit(std::string_view text) const {
  // Keep what a terminal shows after carriage returns; tabs become spaces; control bytes go.
  const auto cr = text.rfind('\r');
  if (cr != std::string_view::npos && cr + 1 < text.size()) text = text.substr(cr + 1);
  std::string clean;
  clean.reserve(text.size());
  for (const char c : text) {
    if (c == '\t') {
      clean += "  ";
    } else if (static_cast<unsigned char>(c) >= 0x20 && c != '\x7f') {
      clean += c;
    }
  }
  if (!terminal_) return clean;
  // Cut to the terminal width, counting UTF-8 code points (continuation bytes take no column).
  const std::size_t room = width_ > prefix_.size() + 1 ? width_ - prefix_.size() - 1 : 10;
  std::size_t columns = 0;
  for (std::size_t i = 0; i < clean.size(); ++i) {
    const auto b = static_cast<unsigned char>(clean[i]);
    if ((b & 0xC0U) == 0x80U) continue;
    if (columns == room) return clean.substr(0, i);
    ++columns;
  }
  return clean;
}

void LiveTail::line(std::string_view text) {
  if (finished_) finished_ = false;  // reusable after finish()
  std::string l = fit(text);
  if (!terminal_) {
    out_ << prefix_ << l << "\n" << std::flush;
    return;
  }
  lines_.push_back(std::move(l));
  while (lines_.size() > max_lines_) lines_.pop_front();
  redraw();
}

void LiveTail::feed(std::string_view data) {
  partial_.append(data);
  std::size_t pos = 0;
  while (true) {
    const auto nl = partial_.find('\n', pos);
    if (nl == std::string::npos) break;
    line(std::string_view(partial_).substr(pos, nl - pos));
    pos = nl + 1;
  }
  partial_.erase(0, pos);
}

void LiveTail::redraw() {
  std::string frame;
  // Back to the first drawn line, then rewrite every line of the block.
  if (drawn_ > 0) frame += "\r\x1b[" + std::to_string(drawn_) + "A";
  for (const auto& l : lines_) frame += "\x1b[2K" + prefix_ + l + "\n";
  drawn_ = lines_.size();
  out_ << frame << std::flush;
}

void LiveTail::finish() {
  if (finished_) return;
  if (!partial_.empty()) {
    const std::string rest = std::move(partial_);
    partial_.clear();
    line(rest);
  }
  if (terminal_ && drawn_ > 0) {
    // Erase the block: up to its first line, clear to the end of the screen.
    out_ << "\r\x1b[" << drawn_ << "A\x1b[J" << std::flush;
  }
  drawn_ = 0;
  lines_.clear();
  finished_ = true;
}

}  // namespace sf
