// `slurm-factory package` (the real binary) with hostile values: a Slurm version, toolchain or GPU
// flavour that would run a command in the rendered slurm_install.sh or write outside --output is
// a usage error (exit 2) before anything is written.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::pair<int, std::string> capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

// Single-quoted for sh.
std::string sq(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::vector<fs::path> every_file(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

class PackageCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sf-package-cmd-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    // Deep enough that ../../../x stays inside the folder this test owns.
    root_ = fs::path(tmpl);
    work_ = root_ / "a" / "b" / "c";
    fs::create_directories(work_ / "staging" / "view" / "bin");
    std::ofstream(work_ / "staging" / "view" / "bin" / "hello") << "#!/bin/sh\necho hello\n";
    fs::create_directories(work_ / "out");
    fs::create_directories(root_ / "home");
    canary_ = root_ / "pwned";
  }
  void TearDown() override { fs::remove_all(root_); }

  std::pair<int, std::string> package(const std::vector<std::string>& args) const {
    std::string cmd = "cd " + sq(work_.string()) + " && HOME=" + sq((root_ / "home").string()) +
                      " " + std::string(SF_TEST_BINARY_DIR) + "/bin/slurm-factory package " +
                      sq((work_ / "staging").string()) + " --unsigned -o " +
                      sq((work_ / "out").string());
    for (const auto& a : args) cmd += " " + sq(a);
    return capture(cmd);
  }

  fs::path root_;
  fs::path work_;
  fs::path canary_;
};

TEST_F(PackageCommand, HostileValuesAreUsageErrorsAndWriteNothing) {
  const std::vector<fs::path> before = every_file(root_);
  const std::string c = canary_.string();
  const std::vector<std::vector<std::string>> cases = {
      {"--slurm-version", "24.11.5$(touch " + c + ")", "--toolchain", "bookworm"},
      {"--slurm-version", "24.11.5`touch " + c + "`", "--toolchain", "bookworm"},
      {"--slurm-version", "24.11.5\"; touch " + c + "; \"", "--toolchain", "bookworm"},
      {"--slurm-version", "../../../x", "--toolchain", "bookworm"},
      {"--slurm-version", "24.11.5/../../../../x", "--toolchain", "bookworm"},
      {"--slurm-version", "24.11.5\ntouch " + c, "--toolchain", "bookworm"},
      {"--slurm-version", "24.11.5", "--toolchain", "../../../x"},
      {"--slurm-version", "24.11.5", "--toolchain", "bookworm$(touch " + c + ")"},
      {"--slurm-version", "24.11.5", "--toolchain", "bookworm", "--gpu", "cuda,../../../x"},
      {"--slurm-version", "24.11.5", "--toolchain", "bookworm", "--gpu", "$(touch " + c + ")"},
  };
  for (const auto& args : cases) {
    const auto [code, out] = package(args);
    EXPECT_EQ(code, 2) << args[1] << " / " << args[3] << ":\n" << out;
    EXPECT_NE(out.find("usage error: invalid "), std::string::npos) << out;
    EXPECT_FALSE(fs::exists(canary_)) << out;
    EXPECT_EQ(every_file(root_), before) << "something was written for " << args[1];
  }
  EXPECT_EQ(cases.size(), 10U);
}

}  // namespace
