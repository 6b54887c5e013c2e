// The one validation module every entry point uses: each kind accepts the values the shipped
// recipes, releases and docs use, and refuses every hostile value below with a reason.
#include "support/input_validation.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

using namespace std::string_literals;

// Values no kind accepts: shell injections, traversal, NUL, control characters, option-looking.
const std::vector<std::string>& hostile_values() {
  static const std::vector<std::string> v = {
      "24.11.5$(touch /tmp/x)",
      "24.11.5`touch /tmp/x`",
      "24.11.5;touch /tmp/x",
      "24.11.5' ; touch /tmp/x ; '",
      "24.11.5\" ; touch /tmp/x ; \"",
      "24.11.5\n touch /tmp/x",
      "24.11.5\r",
      "24.11.5\x1b[31m",
      "24.11.5\0x"s,
      "../../../x",
      "..",
      ".",
      "a/b",
      "/etc/passwd",
      "-rf",
      "--help",
      "",
      std::string(300, '1'),
      "24.11.5|tee /tmp/x",
      "24.11.5&&touch /tmp/x",
      "24.11.5>/tmp/x",
      "\"..os.execute(\"touch /tmp/x\")..\"",
      "]] .. os.execute('touch /tmp/x') .. [[",
      "[exec touch /tmp/x]",
      "${IFS}x",
      "24.11.\xc3\xa9",
  };
  return v;
}

const InputKind kAllKinds[] = {InputKind::kSlurmVersion, InputKind::kToolchainName,
                               InputKind::kGpuFlavour,   InputKind::kArch,
                               InputKind::kPackageName,  InputKind::kPackageVersion,
                               InputKind::kName,         InputKind::kPathComponent};

TEST(InputValidation, EveryKindRefusesEveryHostileValue) {
  int refused = 0;
  for (const auto kind : kAllKinds) {
    for (const auto& value : hostile_values()) {
      // A path component may hold shell characters (it never reaches a script unquoted); it
      // still refuses traversal, NUL, control characters, '/', a leading '-' and emptiness.
      if (kind == InputKind::kPathComponent && value.find('/') == std::string::npos &&
          value.find("..") == std::string::npos && value.find('\0') == std::string::npos &&
          value.find('\n') == std::string::npos && value.find('\r') == std::string::npos &&
          value.find('\x1b') == std::string::npos && !value.empty() && value.front() != '-' &&
          value.size() <= 255 && value != ".") {
        continue;
      }
      EXPECT_FALSE(input_problem(kind, value).empty())
          << describe(kind) << " accepted '" << printable(value) << "'";
      ++refused;
    }
  }
  EXPECT_GT(refused, 150);
}

TEST(InputValidation, AcceptsTheValuesInUse) {
  for (const char* v :
       {"24.11", "24.11.5", "22.05.8", "26.05.0", "24.11.0-rc1", "24.11.0rc2", "24.11.5-2"}) {
    EXPECT_EQ(input_problem(InputKind::kSlurmVersion, v), "") << v;
  }
  for (const char* v : {"noble", "jammy", "rockylinux9", "bookworm", "trixie", "site-os.2"}) {
    EXPECT_EQ(input_problem(InputKind::kToolchainName, v), "") << v;
  }
  for (const char* v : {"cuda", "rocm", "oneapi"}) {
    EXPECT_EQ(input_problem(InputKind::kGpuFlavour, v), "") << v;
  }
  for (const char* v : {"amd64", "arm64", "x86_64", "aarch64", "ppc64le", "s390x"}) {
    EXPECT_EQ(input_problem(InputKind::kArch, v), "") << v;
  }
  for (const char* v : {"slurm", "json-c", "libjwt", "http-parser", "gtk+", "lib.x_y"}) {
    EXPECT_EQ(input_problem(InputKind::kPackageName, v), "") << v;
  }
  for (const char* v : {"1.10.0", "2.1.13-stable", "0.18", "3.5.7", "1.0~rc1", "2.0+dfsg"}) {
    EXPECT_EQ(input_problem(InputKind::kPackageVersion, v), "") << v;
  }
  for (const char* v : {"nightly", "ci_2", "Release-1.0"}) {
    EXPECT_EQ(input_problem(InputKind::kName, v), "") << v;
  }
  for (const char* v : {"slurm-24.11.5.tar.gz", "a b", "x$y", "slurm-slurm-24-11-5-1"}) {
    EXPECT_EQ(input_problem(InputKind::kPathComponent, v), "") << v;
  }
}

TEST(InputValidation, TheReasonNamesTheOffendingPart) {
  EXPECT_EQ(input_problem(InputKind::kSlurmVersion, "../../../x"), "it contains '/'");
  EXPECT_EQ(input_problem(InputKind::kSlurmVersion, "24.11.5$(touch /tmp/x)"), "it contains '/'");
  EXPECT_EQ(input_problem(InputKind::kSlurmVersion, "24.11.5$(id)"), "it contains '$'");
  EXPECT_EQ(input_problem(InputKind::kPathComponent, "-x"), "it starts with '-'");
  EXPECT_EQ(input_problem(InputKind::kPathComponent, ".."), "it is '..'");
  EXPECT_EQ(input_problem(InputKind::kPathComponent, "a\0b"s), "it contains a NUL byte");
  EXPECT_EQ(input_problem(InputKind::kToolchainName, "Noble").rfind("it is not ", 0), 0U);
}

TEST(InputValidation, CheckInputThrowsAUsageErrorShowingTheValueSafely) {
  try {
    check_input(InputKind::kSlurmVersion, "24.11.5\n\x1b[2J$(id)", "--slurm-version");
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("--slurm-version"), std::string::npos) << what;
    EXPECT_NE(what.find("24.11.5\\x0a\\x1b[2J$(id)"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_EQ(what.find('\x1b'), std::string::npos) << what;
    EXPECT_FALSE(e.remediation().empty());
    EXPECT_EQ(e.context_value("expected"), describe(InputKind::kSlurmVersion));
  }
  EXPECT_EQ(check_input(InputKind::kArch, "amd64", "--arch"), "amd64");
}

}  // namespace
}  // namespace sf
