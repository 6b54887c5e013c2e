#include "engine_api/log_frame_demuxer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "slurm_factory/errors.hpp"

namespace {

std::string frame(int stream, const std::string& payload) {
  std::string h(8, '\0');
  h[0] = static_cast<char>(stream);
  const auto n = static_cast<std::uint32_t>(payload.size());
  h[4] = static_cast<char>((n >> 24U) & 0xFFU);
  h[5] = static_cast<char>((n >> 16U) & 0xFFU);
  h[6] = static_cast<char>((n >> 8U) & 0xFFU);
  h[7] = static_cast<char>(n & 0xFFU);
  return h + payload;
}

struct Collected {
  std::string out;
  std::string err;
  sf::OutputSink sink() {
    return [this](sf::Stream s, std::string_view d) {
      (s == sf::Stream::kStdout ? out : err).append(d);
    };
  }
};

const std::string kStream = frame(1, "hello ") + frame(2, "warning: x\n") + frame(1, "") +
                            frame(1, "world\n") + frame(2, std::string(300, 'e')) +
                            frame(0, "echo") + frame(3, "sys");

TEST(LogFrameDemuxer, WholeStreamAtOnce) {
  Collected c;
  sf::LogFrameDemuxer d(c.sink());
  d.feed(kStream);
  EXPECT_EQ(c.out, "hello world\necho");
  EXPECT_EQ(c.err, "warning: x\n" + std::string(300, 'e') + "sys");
  EXPECT_TRUE(d.at_boundary());
}

TEST(LogFrameDemuxer, SplitAtEveryOffset) {
  for (std::size_t cut = 0; cut <= kStream.size(); ++cut) {
    Collected c;
    sf::LogFrameDemuxer d(c.sink());
    d.feed(std::string_view(kStream).substr(0, cut));
    d.feed(std::string_view(kStream).substr(cut));
    EXPECT_EQ(c.out, "hello world\necho") << "cut at " << cut;
    EXPECT_EQ(c.err, "warning: x\n" + std::string(300, 'e') + "sys") << "cut at " << cut;
    EXPECT_TRUE(d.at_boundary()) << "cut at " << cut;
  }
}

TEST(LogFrameDemuxer, SplitAtEveryPairOfOffsets) {
  const std::string s = frame(1, "abc") + frame(2, "de") + frame(1, "fghij");
  for (std::size_t a = 0; a <= s.size(); ++a) {
    for (std::size_t b = a; b <= s.size(); ++b) {
      Collected c;
      sf::LogFrameDemuxer d(c.sink());
      d.feed(std::string_view(s).substr(0, a));
      d.feed(std::string_view(s).substr(a, b - a));
      d.feed(std::string_view(s).substr(b));
      ASSERT_EQ(c.out, "abcfghij") << a << "," << b;
      ASSERT_EQ(c.err, "de") << a << "," << b;
    }
  }
}

TEST(LogFrameDemuxer, OneByteAtATime) {
  Collected c;
  sf::LogFrameDemuxer d(c.sink());
  for (char ch : kStream) d.feed(std::string_view(&ch, 1));
  EXPECT_EQ(c.out, "hello world\necho");
  EXPECT_TRUE(d.at_boundary());
}

TEST(LogFrameDemuxer, PartialFrameIsNotABoundary) {
  Collected c;
  sf::LogFrameDemuxer d(c.sink());
  d.feed(frame(1, "abcdef").substr(0, 10));
  EXPECT_EQ(c.out, "ab");
  EXPECT_FALSE(d.at_boundary());
  sf::LogFrameDemuxer d2(c.sink());
  d2.feed(frame(1, "x").substr(0, 3));
  EXPECT_FALSE(d2.at_boundary());
}

TEST(LogFrameDemuxer, MalformedHeaderIsAContainerError) {
  Collected c;
  sf::LogFrameDemuxer d(c.sink());
  EXPECT_THROW(d.feed("Hello, world, this is a TTY stream"), sf::ContainerError);
}

TEST(LogFrameDemuxer, RawModeForwardsEverything) {
  Collected c;
  sf::LogFrameDemuxer d(c.sink(), /*raw=*/true);
  d.feed("Hello, ");
  d.feed("TTY");
  EXPECT_EQ(c.out, "Hello, TTY");
  EXPECT_TRUE(c.err.empty());
}

}  // namespace
