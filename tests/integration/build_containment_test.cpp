// A build cannot reach the host, on docker with the real trixie build image and hostile stand-in
// recipes (plain make) run by build-slurm: an install step that links a host folder into its stage
// (as the whole prefix, or as a folder inside it) and a failing build that links /etc/shadow and a
// host file as config.log and .stage. Each build fails naming the link, and nothing outside the
// work tree is walked, deleted, packed, signed, written to a cache layer or copied into the debug
// bundle. And an entry whose tarball was changed in the local layer (other bytes of the same size,
// or a file added) is never used: the next build skips it and builds the package again.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../support/pipeline_fixture.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

namespace sf {
namespace {

class BuildContainmentTest : public test::PipelineFixture {
 protected:
  BuildContainmentTest()
      : PipelineFixture("sf-contain", "Containment Test <contain@test.invalid>") {}
  void SetUp() override {
    PipelineFixture::SetUp();
    if (IsSkipped()) return;
    write_config("toolchain-debian, backend-docker, cache-local");
    // A folder of the host with a libtool archive and a secret: the builds link to it.
    test::write_file(host_ / "keep.la", "# the host's own libtool archive\n");
    test::write_file(host_ / "secret.txt", secret_ + "\n");
  }

  // The stand-in "slurm" 24.11.5: a program and what `install` (Makefile lines) adds to its
  // install, or, with `build` set, a build step made of those lines instead of the program.
  void stand_in(const std::string& install, const std::string& build = "") {
    const std::string dirname = "slurm-fake-24.11.5";
    test::write_file(dir_ / "src" / dirname / "sinfo.c",
                     "#include <stdio.h>\nint main(void) { puts(\"fake sinfo\"); return 0; }\n");
    test::write_file(dir_ / "src" / dirname / "Makefile",
                     "PREFIX ?= /opt/slurm/view\n"
                     "all: sinfo\n"
                     "sinfo: sinfo.c\n" +
                         (build.empty() ? "\t$(CC) -O2 -o $@ sinfo.c\n" : build) +
                         "install: all\n"
                         "\tinstall -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib\n"
                         "\tinstall -m 755 sinfo $(DESTDIR)$(PREFIX)/bin/sinfo\n" +
                         install);
    const std::string sha = pack(dirname);
    ASSERT_FALSE(sha.empty());
    test::write_file(recipes_ / "slurm.yaml",
                     test::make_recipe("slurm", "a hostile stand-in for Slurm",
                                       test::version_entry("24.11.5", sha, dirname)));
  }

  // Files of cache entries anywhere in the cache folder (layer, the runs' entry copies, debug
  // archives) and anything in the output folder.
  std::vector<std::string> packed() const {
    std::vector<std::string> out;
    for (const fs::path& top : {cache_ / "cache", cache_ / "work", cache_ / "debug", output_}) {
      std::error_code ec;
      for (auto it = fs::recursive_directory_iterator(top, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!it->is_directory() &&
            (name.find(".tar.") != std::string::npos ||
             name.find(".manifest.json") != std::string::npos || top == output_)) {
          out.push_back(it->path().string());
        }
      }
    }
    return out;
  }

  // Every regular file under `dir`, read whole, concatenated.
  static std::string contents(const fs::path& dir) {
    std::string all;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->is_regular_file() && !it->is_symlink()) all += test::read_file(it->path());
    }
    return all;
  }

  std::string said() const { return out_.str() + err_.str(); }

  test::TempDir host_{"sf-contain-host"};
  const std::string secret_ = "HOST-SECRET-" + std::to_string(::getpid());
};

TEST_F(BuildContainmentTest, AnInstallLinkingAHostFolderAsThePrefixFailsNamingIt) {
  // The container sees its own /etc there; the host would see, walk and pack its /etc.
  stand_in("\trm -rf $(DESTDIR)$(PREFIX)\n\tln -s /etc $(DESTDIR)$(PREFIX)\n");
  EXPECT_EQ(build_slurm({}), static_cast<int>(ExitCode::kBuild)) << said();
  EXPECT_THAT(said(), HasSubstr("'stage/opt/slurm/view'"));
  EXPECT_THAT(said(), HasSubstr("is a symlink (to '/etc')"));
  EXPECT_EQ(packed(), std::vector<std::string>{}) << "something was packed";
}

TEST_F(BuildContainmentTest, AnInstallLinkingAHostFolderInsideThePrefixFailsNamingIt) {
  stand_in("\tln -s " + host_.path().string() + " $(DESTDIR)$(PREFIX)/lib/host\n");
  EXPECT_EQ(build_slurm({}), static_cast<int>(ExitCode::kBuild)) << said();
  EXPECT_THAT(said(), HasSubstr("lib/host -> " + host_.path().string()));
  EXPECT_EQ(packed(), std::vector<std::string>{}) << "something was packed";
  EXPECT_TRUE(fs::exists(host_ / "keep.la")) << "the host's .la was deleted";
}

TEST_F(BuildContainmentTest, AFailingBuildLinkingShadowAsConfigLogCopiesNothingOfTheHost) {
  stand_in("",
           "\tln -s /etc/shadow config.log\n"
           "\tmkdir -p /work/build && ln -s " +
               (host_ / "secret.txt").string() +
               " /work/build/config.log\n"
               "\trm -f /work/.stage && ln -s " +
               (host_ / "secret.txt").string() + " /work/.stage\n\tfalse\n");
  EXPECT_EQ(build_slurm({}), static_cast<int>(ExitCode::kBuild)) << said();
  EXPECT_THAT(said(), HasSubstr("'src/config.log' in "));
  EXPECT_THAT(said(), HasSubstr("is a symlink (to '/etc/shadow')"));
  EXPECT_THAT(said(), HasSubstr("is a symlink (to '" + (host_ / "secret.txt").string() + "')"));
  EXPECT_THAT(said(), HasSubstr("the unknown step failed"));
  EXPECT_THAT(said(), Not(HasSubstr(secret_)));
  // The debug bundle holds the log and the script, nothing of the host.
  std::string bundles;
  std::error_code ec;
  for (auto it = fs::directory_iterator(cache_ / "logs", ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    bundles += contents(it->path());
    EXPECT_FALSE(fs::exists(it->path() / "slurm-debug" / "config.log"));
    EXPECT_TRUE(fs::is_regular_file(it->path() / "slurm-debug" / "build.sh"));
  }
  EXPECT_THAT(bundles, HasSubstr("sf_main"));
  EXPECT_THAT(bundles, Not(HasSubstr(secret_)));
  const std::string shadow = test::capture("head -c 12 /etc/shadow 2>/dev/null");
  if (!shadow.empty()) EXPECT_THAT(bundles, Not(HasSubstr(shadow)));
  EXPECT_EQ(packed(), std::vector<std::string>{});
}

// An entry changed in the local layer after it was written is never used: the next build skips
// it (its tarball no longer matches the signed manifest) and builds the package again.
TEST_F(BuildContainmentTest, ATamperedEntryInTheLocalLayerIsNeverUsed) {
  stand_in("");
  ASSERT_EQ(build_slurm({}), 0) << said();
  std::vector<fs::path> tarballs;
  for (const auto& e : fs::recursive_directory_iterator(cache_ / "cache")) {
    if (e.path().string().ends_with(".tar.zst")) tarballs.push_back(e.path());
  }
  ASSERT_EQ(tarballs.size(), 1U);
  const fs::path tarball = tarballs[0];
  const std::string genuine = test::read_file(tarball);

  // Other bytes, same size.
  {
    std::string bytes = genuine;
    for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 16 && i < bytes.size(); ++i) {
      bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
    }
    std::ofstream(tarball, std::ios::binary | std::ios::trunc) << bytes;
  }
  output_ = dir_ / "out-2";
  ASSERT_EQ(build_slurm({}), 0) << said();
  const auto second_events = test::events(out_.str());
  const auto* second = test::find_event(second_events, "build", "done");
  ASSERT_NE(second, nullptr) << said();
  EXPECT_EQ((*second)["data"]["built"], 1) << "the tampered entry was used";
  EXPECT_EQ(test::read_file(tarball).size(), genuine.size());

  // A file added: the entry repacked with one more file.
  const fs::path unpacked = dir_ / "repack";
  fs::create_directories(unpacked);
  ASSERT_EQ(test::sh("tar --zstd -xf '" + tarball.string() + "' -C '" + unpacked.string() +
                     "' && echo evil > '" + unpacked.string() + "/bin/evil' && tar --zstd -cf '" +
                     tarball.string() + "' -C '" + unpacked.string() + "' ."),
            0);
  output_ = dir_ / "out-3";
  ASSERT_EQ(build_slurm({}), 0) << said();
  const auto third_events = test::events(out_.str());
  const auto* third = test::find_event(third_events, "build", "done");
  ASSERT_NE(third, nullptr) << said();
  EXPECT_EQ((*third)["data"]["built"], 1) << "the entry with an added file was used";
  const std::string listing = test::capture(
      "tar --zstd -tf '" +
      (output_ / "trixie/24.11.5/amd64/slurm-24.11.5-trixie-amd64-software.tar.zst").string() +
      "'");
  EXPECT_THAT(listing, HasSubstr("view/bin/sinfo"));
  EXPECT_THAT(listing, Not(HasSubstr("evil")));
}

}  // namespace
}  // namespace sf
