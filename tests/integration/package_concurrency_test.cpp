// 30 real `slurm-factory package` processes write 30 artifacts into one output folder at once,
// signed with a real (throwaway) gpg key: SHA256SUMS must list every artifact and provenance file
// with its right sum, SHA256SUMS.asc must verify with gpg against that key, and no temp file may be
// left behind (they used to share a fixed "SHA256SUMS.tmp" and lose each other's lines).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "../support/gpg_home.hpp"
#include "../support/temp_dir.hpp"
#include "artifact/artifact_checksums.hpp"
#include "signing/gpg_signer.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

constexpr int kRuns = 30;

fs::path cli_binary() { return fs::path(SF_TEST_BINARY_DIR) / "bin" / "slurm-factory"; }

// Starts `args` with stdout and stderr into `log`; returns the pid.
pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "w", stdout);
    if (f == nullptr || ::dup2(STDOUT_FILENO, STDERR_FILENO) < 0) ::_exit(127);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

TEST(PackageConcurrency, ThirtyParallelRunsIntoOneFolderKeepEveryLineAndAValidSignature) {
  ASSERT_TRUE(fs::exists(cli_binary())) << cli_binary() << " is not built";
  test::TempDir dir("sf-pkg-par");
  test::GpgHome home;
  const std::string fpr = GpgSigner::generate_key(home.path(), "Par <par@example.invalid>");
  {
    std::ofstream c(dir / "c.yaml");
    c << "cache_dir: " << (dir / "cache").string() << "\n"
      << "plugins: {search_paths: [" << SF_TEST_PLUGIN_DIR << "], load: [toolchain-debian]}\n"
      << "signing: {key_id: " << fpr << ", keyring: " << home.path() << "}\n";
  }
  // One staging folder each (package renders assets into it); the same small view.
  for (int i = 1; i <= kRuns; ++i) {
    const fs::path view = dir / ("stage" + std::to_string(i)) / "view";
    test::write_file(view / "bin/srun", "#!/bin/sh\necho srun " + std::to_string(i) + "\n");
    test::write_file(view / "lib/libslurm.so.42", std::string(8192, 's') + std::to_string(i));
    test::write_file(view / "share/doc/README", "view " + std::to_string(i) + "\n");
  }
  const fs::path out = dir / "out";
  fs::create_directories(out);

  std::vector<pid_t> pids;
  for (int i = 1; i <= kRuns; ++i) {
    pids.push_back(spawn({cli_binary().string(), "--config", (dir / "c.yaml").string(), "-q",
                          "package", (dir / ("stage" + std::to_string(i))).string(),
                          "--slurm-version", "24.11." + std::to_string(i), "--toolchain",
                          "bookworm", "--threads", "1", "-o", out.string()},
                         dir / ("log" + std::to_string(i))));
  }
  for (int i = 0; i < kRuns; ++i) {
    int status = 0;
    ASSERT_EQ(::waitpid(pids[static_cast<size_t>(i)], &status, 0), pids[static_cast<size_t>(i)]);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "run " << i + 1 << " failed: " << test::read_file(dir / ("log" + std::to_string(i + 1)));
  }

  // Every artifact and provenance file is listed, with its right sum.
  const auto lines = parse_sha256sums(test::read_file(out / kChecksumsFile), "SHA256SUMS");
  std::map<std::string, std::string> listed;
  for (const auto& l : lines) listed[l.file] = l.sha256;
  int artifacts = 0;
  for (const auto& e : fs::directory_iterator(out)) {
    const std::string name = e.path().filename().string();
    const bool artifact = name.size() > 8 && name.compare(name.size() - 8, 8, ".tar.zst") == 0;
    const bool provenance = name.find(".provenance.json") != std::string::npos;
    EXPECT_EQ(name.find(".sf-tmp-"), std::string::npos) << "temp file left behind: " << name;
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << "temp file left behind: " << name;
    if (!artifact && !provenance) continue;
    artifacts += artifact ? 1 : 0;
    ASSERT_TRUE(listed.count(name)) << name << " is missing from SHA256SUMS:\n"
                                    << test::read_file(out / kChecksumsFile);
    EXPECT_EQ(listed[name], *sha256_of_file(e.path())) << name;
  }
  EXPECT_EQ(artifacts, kRuns);
  EXPECT_EQ(lines.size(), static_cast<size_t>(2 * kRuns));

  // The signature covers exactly this SHA256SUMS: gpg itself says so, with the throwaway key.
  const std::string verify =
      "gpg --batch --homedir '" + home.path() + "' --status-fd 1 --verify '" +
      (out / kChecksumsSignatureFile).string() + "' '" + (out / kChecksumsFile).string() + "' > '" +
      (dir / "gpg.out").string() + "' 2>&1";
  EXPECT_EQ(std::system(verify.c_str()), 0) << test::read_file(dir / "gpg.out");
  EXPECT_NE(test::read_file(dir / "gpg.out").find("[GNUPG:] VALIDSIG " + fpr), std::string::npos)
      << test::read_file(dir / "gpg.out");
}

}  // namespace
}  // namespace sf
