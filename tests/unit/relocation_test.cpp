// Relocation on real ELF files: compiled here with the host's gcc, given an absolute RPATH, then
// planned, patched with patchelf (as the build image does) and checked.
#include "artifact/relocation.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "../support/temp_dir.hpp"
#include "formats/elf_reader.hpp"
#include "slurm_factory/shell_quote.hpp"

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

// A build that links a host folder into its stage: the host neither walks it nor deletes the
// libtool archives it holds, whether the link is the tree itself or a folder inside it.
TEST_F(RelocationTest, ATreeThatIsALinkToAHostFolderIsRefusedAndNothingThereIsDeleted) {
  test::TempDir host("sf-relocation-host");
  test::write_file(host / "keep.la", "# the host's own libtool archive\n");
  const fs::path linked = tree_.string() + "-linked";
  fs::create_symlink(host.path(), linked);
  auto plan = plan_relocation(linked);
  ASSERT_FALSE(plan) << "walked the host folder: " << plan->libtool_archives.size() << " .la";
  EXPECT_NE(plan.error().message.find("symlink"), std::string::npos) << plan.error().message;
  RelocationPlan crafted;
  crafted.libtool_archives = {"keep.la"};
  EXPECT_EQ(remove_libtool_archives(linked, crafted), 0U);
  EXPECT_TRUE(fs::exists(host / "keep.la"));
  EXPECT_FALSE(check_relocation(linked).empty());
  fs::remove(linked);
}

TEST_F(RelocationTest, ALinkedFolderInsideTheTreeIsNotWalkedNorDeletedThrough) {
  test::TempDir host("sf-relocation-host");
  test::write_file(host / "keep.la", "# the host's own libtool archive\n");
  fs::create_symlink(host.path(), tree_ / "lib/host");
  auto plan = plan_relocation(tree_);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->libtool_archives, std::vector<std::string>{"lib/libx.la"});
  plan->libtool_archives.push_back("lib/host/keep.la");  // as if listed before the link appeared
  EXPECT_EQ(remove_libtool_archives(tree_, *plan), 1U);
  EXPECT_FALSE(fs::exists(tree_ / "lib/libx.la"));
  EXPECT_TRUE(fs::exists(host / "keep.la"));
}

TEST_F(RelocationTest, StagedLinksInsideAreKeptAbsoluteOnesIntoThePrefixMadeRelative) {
  fs::create_directories(tree_ / "share/doc");
  fs::create_symlink("/opt/slurm/view/lib/libx.so.1", tree_ / "lib/libabs.so");
  fs::create_symlink("/opt/slurm/view/bin/../lib/slurm", tree_ / "share/doc/plugins");
  fs::create_symlink("/opt/slurm/view", tree_ / "share/root");
  auto links = settle_staged_links(tree_, "/opt/slurm/view");
  ASSERT_TRUE(links) << links.error().message;
  EXPECT_TRUE(links->refused.empty()) << links->refused.front();
  EXPECT_EQ(links->rewritten.size(), 3U);
  EXPECT_EQ(fs::read_symlink(tree_ / "lib/libx.so"), "libx.so.1");  // kept as it was
  EXPECT_EQ(fs::read_symlink(tree_ / "lib/libabs.so"), "libx.so.1");
  EXPECT_EQ(fs::read_symlink(tree_ / "share/doc/plugins"), "../../lib/slurm");
  EXPECT_EQ(fs::read_symlink(tree_ / "share/root"), "..");
}

TEST_F(RelocationTest, StagedLinksOutOfTheTreeAreRefusedAndNothingChanges) {
  test::TempDir host("sf-relocation-host");
  fs::create_directories(tree_ / "p/q");
  fs::create_symlink(host.path(), tree_ / "lib/host");                    // absolute, elsewhere
  fs::create_symlink("../../../etc/shadow", tree_ / "lib/slurm/up");      // climbs out
  fs::create_symlink("/opt/slurm/view/../../../etc", tree_ / "bin/etc");  // out once normalized
  fs::create_symlink("../..", tree_ / "p/q/d");                           // the tree's root: fine
  fs::create_symlink("d/../x", tree_ / "p/q/e");  // inside on paper, out through p/q/d
  fs::create_symlink("/opt/slurm/view/lib/libx.so.1", tree_ / "lib/libabs.so");
  auto links = settle_staged_links(tree_, "/opt/slurm/view");
  ASSERT_TRUE(links) << links.error().message;
  EXPECT_EQ(links->refused,
            (std::vector<std::string>{"bin/etc -> /opt/slurm/view/../../../etc",
                                      "lib/host -> " + host.path().string(),
                                      "lib/slurm/up -> ../../../etc/shadow", "p/q/e -> d/../x"}));
  EXPECT_EQ(fs::read_symlink(tree_ / "lib/libabs.so"), "/opt/slurm/view/lib/libx.so.1");
}

}  // namespace
}  // namespace sf
