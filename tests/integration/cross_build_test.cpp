// Cross builds on docker (issue 17): the trixie image for arm64 on this host (the release's image
// plus crossbuild-essential-arm64 and the -dev packages as NAME:arm64, prepared exactly as
// `build-slurm --arch arm64` prepares it), three real recipes cross-built in it (lz4: plain make,
// json-c: CMake, libyaml: autotools with autoreconf), every ELF file of their entries an aarch64
// one with an $ORIGIN RUNPATH and its debug info split by the cross objcopy, and a system library
// of the target (libjwt, from libjwt-dev:arm64) exported from the image with its closure, all
// aarch64. On an arm64 host the same test cross-builds amd64.
#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "../support/build_image.hpp"
#include "../support/requirement.hpp"
#include "build/build_executor.hpp"
#include "build/source_fetcher.hpp"
#include "cache/cache_chain.hpp"
#include "containers/system_library_export.hpp"
#include "formats/archive_reader.hpp"
#include "formats/elf_reader.hpp"
#include "recipes/recipe_book.hpp"
#include "slurm_factory/errors.hpp"
#include "support/host_arch.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

const fs::path kCacheDir = fs::path(SF_TEST_BINARY_DIR) / "cross-build-test-cache";
const std::string kTarget = host_arch() == "amd64" ? "arm64" : "amd64";

PluginHost& host() { return test::build_plugins(); }

class CrossBuildTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    image_ = test::prepare_build_image("trixie", kTarget, kCacheDir, skip_reason_);
    release_ = image_.release;
  }

  void SetUp() override {
    if (!skip_reason_.empty()) SF_REQUIRE_OR_SKIP(skip_reason_);
    keys_ = std::make_unique<test::ThrowawaySigning>("sf-cross-build", "Cross <c@example.invalid>");
    root_ = keys_->root;
  }
  void TearDown() override { keys_.reset(); }

  Plan plan_for(const std::string& root, const std::string& version) {
    return test::plan_shipped_recipe(image_, root, version, kCacheDir);
  }

  BuildReport build(const Plan& plan) {
    auto chain = test::local_cache_chain(root_ / "cache", keys_->verifier.get());
    const BuildExecutorOptions o = test::build_options(image_, kCacheDir, keys_->signer.get());
    EXPECT_TRUE(o.cross.has_value()) << "a cross image's builds get its triplets";
    BuildExecutor ex([] { return host().make_container_backend("docker", {}); }, *chain, o);
    return ex.run(plan);
  }

  // Every ELF file of the entry: the target's machine, an $ORIGIN RUNPATH when dynamic.
  int check_entry(const fs::path& tarball) {
    int elves = 0;
    for (const auto& [path, info] : test::unpack_entry_elf_files(
             tarball, root_ / ("unpacked-" + tarball.filename().string()))) {
      ++elves;
      EXPECT_EQ(info.machine, *elf_machine_of(kTarget))
          << path << " is " << describe_elf_machine(info.machine) << ", not " << kTarget;
      if (info.has_dynamic) {
        EXPECT_FALSE(info.runpath.empty()) << path;
        if (!info.runpath.empty()) EXPECT_EQ(info.runpath[0].rfind("$ORIGIN", 0), 0U) << path;
      }
    }
    return elves;
  }

  static inline std::string skip_reason_;
  static inline test::BuildImage image_;
  static inline ToolchainRelease release_;
  std::unique_ptr<test::ThrowawaySigning> keys_;
  fs::path root_;
};

TEST_F(CrossBuildTest, TheImageIsTheHostsWithTheTargetsCompilerAndLibraries) {
  ASSERT_TRUE(is_cross_build(release_));
  auto backend = host().make_container_backend("docker", {});
  const fs::path out = root_ / "probe";
  fs::create_directories(out);
  const std::string triplet = multiarch_triplet(kTarget);
  SystemLibraryExportRequest xr;
  xr.image = image_.tag;
  xr.sonames = {"libjwt.so.2"};
  xr.out_dir = out / "export";
  xr.multiarch = triplet;
  const auto exported = export_system_libraries(*backend, xr);
  ASSERT_EQ(exported.found.count("libjwt.so.2"), 1U) << "libjwt-dev:" << kTarget << " missing";
  EXPECT_EQ(exported.found.at("libjwt.so.2").rfind("/usr/lib/" + triplet + "/", 0), 0U)
      << exported.found.at("libjwt.so.2");
  // Its closure came along (libjansson, libcrypto), all of the target.
  int files = 0;
  for (const auto& e : fs::directory_iterator(exported.dir)) {
    auto info = read_elf(e.path());
    ASSERT_TRUE(info) << e.path();
    EXPECT_EQ(info->machine, *elf_machine_of(kTarget)) << e.path();
    ++files;
  }
  EXPECT_TRUE(fs::exists(exported.dir / "libjansson.so.4")) << "the closure was not followed";
  EXPECT_GE(files, 3);
}

TEST_F(CrossBuildTest, MakeCmakeAndAutotoolsRecipesBuildForTheTarget) {
  for (const auto& [name, version] : std::vector<std::pair<std::string, std::string>>{
           {"lz4", "1.10.0"}, {"json-c", "0.18"}, {"libyaml", "0.2.5"}}) {
    const Plan plan = plan_for(name, version);
    ASSERT_EQ(plan.packages.size(), 1U) << name;
    EXPECT_EQ(plan.packages[0].toolchain.arch, kTarget);
    const BuildReport report = build(plan);
    ASSERT_EQ(report.built(), 1U) << name;
    const auto& out = report.packages[0];
    EXPECT_EQ(out.key.arch, kTarget) << "the entry key names the target";
    EXPECT_GE(check_entry(out.tarball), 1) << name << ": no ELF file built";
  }
}

}  // namespace
}  // namespace sf
