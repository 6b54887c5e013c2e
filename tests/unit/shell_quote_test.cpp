#include "slurm_factory/shell_quote.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <memory>

namespace sf {
namespace {

// What /bin/sh makes of `eval "set -- $LIST"`: one word per line.
std::string sh_words(const std::string& list) {
  const std::string cmd = "LIST=" + shell_quote(list) +
                          "; eval \"set -- $LIST\"; for w in \"$@\"; do printf '<%s>' \"$w\"; done";
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(("/bin/sh -c " + shell_quote(cmd)).c_str(), "r"),
                                          ::pclose);
  std::string out;
  std::array<char, 256> buf{};
  while (p && std::fgets(buf.data(), static_cast<int>(buf.size()), p.get()) != nullptr) {
    out += buf.data();
  }
  return out;
}

TEST(ShellQuote, PlainWordsStayAsTheyAre) {
  EXPECT_EQ(shell_quote("--prefix=/opt/slurm/view"), "--prefix=/opt/slurm/view");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote("$ORIGIN/../lib"), "'$ORIGIN/../lib'");
}

TEST(ShellQuote, JoinedWordsSurviveEvalInARealShell) {
  const std::vector<std::string> words{"-Wl,-z,lazy", "a b", "it's", "$HOME", "`id`", "", "x\"y"};
  EXPECT_EQ(sh_words(shell_join(words)), "<-Wl,-z,lazy><a b><it's><$HOME><`id`><><x\"y>");
}

}  // namespace
}  // namespace sf
