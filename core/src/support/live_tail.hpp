// A short live tail of a long output (a toolchain image build, a package build): on a terminal the
// last few lines are redrawn in place (the block is erased when done, the full output is in the
// log file); elsewhere every line is written plainly, prefixed, so logs and CI output stay
// readable. The caller decides whether anything is shown at all (--json and -q show nothing).
#pragma once

#include <cstddef>
#include <deque>
#include <iosfwd>
#include <string>
#include <string_view>

namespace sf {

// True when `out` is std::cout, std::cerr or std::clog and that descriptor is a terminal.
bool stream_is_terminal(const std::ostream& out);

class LiveTail {
 public:
  static constexpr std::size_t kDefaultLines = 5;

  LiveTail(std::ostream& out, bool terminal, std::size_t lines = kDefaultLines,
           std::string prefix = "  | ");
  ~LiveTail();  // finish()
  LiveTail(const LiveTail&) = delete;
  LiveTail& operator=(const LiveTail&) = delete;

  // One complete line of output (without its newline; a trailing '\r' is dropped, and carriage-
  // return progress within the line keeps only the last segment).
  void line(std::string_view text);
  // Feeds raw output: splits it into lines, keeping an unfinished last line for the next call.
  void feed(std::string_view data);
  // Flushes an unfinished line and, on a terminal, erases the drawn block. Idempotent.
  void finish();

  bool terminal() const { return terminal_; }
  std::size_t drawn_lines() const { return drawn_; }
  // Terminal width used to cut lines (so a long line never wraps and breaks the redraw).
  void set_width(std::size_t columns) { width_ = columns; }

 private:
  void redraw();
  std::string fit(std::string_view text) const;

  std::ostream& out_;
  bool terminal_;
  std::size_t max_lines_;
  std::string prefix_;
  std::size_t width_;
  std::deque<std::string> lines_;
  std::size_t drawn_ = 0;
  std::string partial_;
  bool finished_ = false;
};

}  // namespace sf
