// The live tail: plain prefixed lines when not a terminal; on a terminal the last N lines
// redrawn in place (cursor up, clear line), cut to the width, erased by finish().
#include "support/live_tail.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <iostream>
#include <sstream>

namespace {

TEST(LiveTail, PlainLinesWhenNotATerminal) {
  std::ostringstream out;
  {
    sf::LiveTail tail(out, false);
    tail.line("one");
    tail.line("two\r");
    tail.feed("thr");
    tail.feed("ee\nfour");
    EXPECT_EQ(out.str(), "  | one\n  | two\n  | three\n");
  }
  EXPECT_EQ(out.str(), "  | one\n  | two\n  | three\n  | four\n") << "the destructor flushes";
}

TEST(LiveTail, TerminalKeepsTheLastLinesRedrawnInPlace) {
  std::ostringstream out;
  sf::LiveTail tail(out, true, 2, "> ");
  tail.set_width(80);
  tail.line("a");
  EXPECT_EQ(out.str(), "\x1b[2K> a\n");
  tail.line("b");
  tail.line("c");
  const std::string expected =
      "\x1b[2K> a\n"
      "\r\x1b[1A\x1b[2K> a\n\x1b[2K> b\n"
      "\r\x1b[2A\x1b[2K> b\n\x1b[2K> c\n";
  EXPECT_EQ(out.str(), expected);
  EXPECT_EQ(tail.drawn_lines(), 2U);
  tail.finish();
  EXPECT_EQ(out.str(), expected + "\r\x1b[2A\x1b[J") << "finish erases the block";
  EXPECT_EQ(tail.drawn_lines(), 0U);
  tail.finish();
  EXPECT_EQ(out.str(), expected + "\r\x1b[2A\x1b[J") << "finish is idempotent";
}

TEST(LiveTail, TerminalLinesAreCutToTheWidthAndCleaned) {
  std::ostringstream out;
  sf::LiveTail tail(out, true, 5, "| ");
  tail.set_width(10);  // room for 10 - 2 - 1 = 7 columns
  tail.line("abcdefghijkl");
  EXPECT_EQ(out.str(), "\x1b[2K| abcdefg\n");
  out.str("");
  tail.finish();
  out.str("");
  // Carriage-return progress keeps the last segment; tabs become spaces; escapes are dropped;
  // UTF-8 counts one column per code point.
  tail.line("10%\r55%\r100%");
  EXPECT_EQ(out.str(), "\x1b[2K| 100%\n");
  tail.finish();
  out.str("");
  tail.line("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
  EXPECT_EQ(out.str(), "\x1b[2K| \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\n");
  tail.finish();
  out.str("");
  tail.line("a\tb\x1b[0m");
  EXPECT_EQ(out.str(), "\x1b[2K| a  b[0m\n");
}

TEST(LiveTail, OnlyStandardStreamsCanBeTerminals) {
  std::ostringstream out;
  EXPECT_FALSE(sf::stream_is_terminal(out));
  // std::cerr is a terminal only when the test runs on one; the answer must match isatty(2).
  EXPECT_EQ(sf::stream_is_terminal(std::cerr), ::isatty(2) == 1);
}

}  // namespace
