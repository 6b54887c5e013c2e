// Relocation on real ELF files: compiled here with the host's gcc, given an absolute RPATH, then
// planned, patched with patchelf (as the build image does) and checked.
#include "slurm_factory/core/relocation.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "slurm_factory/core/elf_reader.hpp"
#include "slurm_factory/core/shell_quote.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

TEST(RelocatedRunpath, ReachesLibAndLibSlurmFromEveryDirectory) {
  EXPECT_EQ(relocated_runpath("bin"), "$ORIGIN/../lib:$ORIGIN/../lib/slurm");
  EXPECT_EQ(relocated_runpath("sbin"), "$ORIGIN/../lib:$ORIGIN/../lib/slurm");
  EXPECT_EQ(relocated_runpath("lib"), "$ORIGIN:$ORIGIN/slurm");
  EXPECT_EQ(relocated_runpath("lib/slurm"), "$ORIGIN/..:$ORIGIN");
  EXPECT_EQ(relocated_runpath("libexec/slurm/x"),
            "$ORIGIN/../../../lib:$ORIGIN/../../../lib/slurm");
  EXPECT_EQ(relocated_runpath(""), "$ORIGIN/lib:$ORIGIN/lib/slurm");
}

class RelocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_ = fs::temp_directory_path() / ("sf-relocation-" + std::to_string(::getpid()));
    fs::remove_all(tree_);
    fs::create_directories(tree_ / "bin");
    fs::create_directories(tree_ / "lib" / "slurm");
    const fs::path src = tree_ / "x.c";
    std::ofstream(src) << "int f(void) { return 42; }\nint main(void) { return f() - 42; }\n";
    auto sh = [](const std::string& cmd) { return std::system(cmd.c_str()); };
    ASSERT_EQ(sh("gcc -g -shared -fPIC -o " + shell_quote((tree_ / "lib/libx.so.1").string()) +
                 " " + shell_quote(src.string()) + " -Wl,-rpath,/opt/slurm/view/lib"),
              0);
    ASSERT_EQ(sh("gcc -g -shared -fPIC -o " + shell_quote((tree_ / "lib/slurm/plug.so").string()) +
                 " " + shell_quote(src.string())),
              0);
    ASSERT_EQ(sh("gcc -g -o " + shell_quote((tree_ / "bin/prog").string()) + " " +
                 shell_quote(src.string()) + " -Wl,--disable-new-dtags,-rpath,/opt/slurm/view/lib"),
              0);
    fs::remove(src);
    std::ofstream(tree_ / "lib/libx.la") << "# libtool archive\n";
    std::ofstream(tree_ / "bin/script") << "#!/bin/sh\n";
    fs::create_symlink("libx.so.1", tree_ / "lib/libx.so");
  }
  void TearDown() override { fs::remove_all(tree_); }
  fs::path tree_;
};

TEST_F(RelocationTest, PlanScriptAndCheckOnRealElfFiles) {
  EXPECT_FALSE(check_relocation(tree_).empty()) << "absolute RUNPATH and .la not reported";
  auto plan = plan_relocation(tree_);
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->elf_files.size(), 3U);  // the symlink and the script are left alone
  EXPECT_EQ(plan->elf_files[0].path, "bin/prog");
  EXPECT_EQ(plan->elf_files[0].runpath, "$ORIGIN/../lib:$ORIGIN/../lib/slurm");
  EXPECT_TRUE(plan->elf_files[0].split_debug);
  EXPECT_EQ(plan->libtool_archives, std::vector<std::string>{"lib/libx.la"});

  EXPECT_EQ(remove_libtool_archives(tree_, *plan), 1U);
  const fs::path debug = tree_.string() + "-debug";
  const std::string script = relocation_script(*plan, tree_.string(), debug.string());
  ASSERT_EQ(std::system(("/bin/sh -c " + shell_quote(script) + " >/dev/null").c_str()), 0)
      << script;
  EXPECT_TRUE(check_relocation(tree_).empty());
  auto prog = read_elf(tree_ / "bin/prog");
  ASSERT_TRUE(prog);
  EXPECT_TRUE(prog->rpath.empty());  // DT_RPATH became DT_RUNPATH
  EXPECT_EQ(prog->runpath, (std::vector<std::string>{"$ORIGIN/../lib", "$ORIGIN/../lib/slurm"}));
  auto plug = read_elf(tree_ / "lib/slurm/plug.so");
  ASSERT_TRUE(plug);
  EXPECT_EQ(plug->runpath, (std::vector<std::string>{"$ORIGIN/..", "$ORIGIN"}));
  EXPECT_TRUE(fs::is_regular_file(debug / "bin/prog.debug"));
  for (const auto& s : prog->sections) EXPECT_NE(s.name.rfind(".debug_info", 0), 0U);
  // The stripped program still runs.
  EXPECT_EQ(std::system((tree_ / "bin/prog").c_str()), 0);
  fs::remove_all(debug);
}

}  // namespace
}  // namespace sf
