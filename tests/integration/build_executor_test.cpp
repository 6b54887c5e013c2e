// The build executor on docker: real recipes (lz4, plain make; json-c, cmake) built in the real
// trixie toolchain image (bootstrapped offline when it is not there yet), relocated, signed with a
// throwaway key and written to a real local cache layer; every ELF's RUNPATH is $ORIGIN-relative,
// a rerun builds nothing, and a failing step is a BuildError with its debug bundle.
#include "build/build_executor.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "../support/build_image.hpp"
#include "../support/requirement.hpp"
#include "build/source_fetcher.hpp"
#include "cache/cache_chain.hpp"
#include "config/config.hpp"
#include "formats/archive_reader.hpp"
#include "formats/elf_reader.hpp"
#include "plugin_host/plugin_host.hpp"
#include "recipes/recipe_book.hpp"
#include "signing/gpg_signer.hpp"
#include "signing/gpg_verifier.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"
#include "toolchains/toolchain_catalog.hpp"
#include "toolchains/toolchain_image.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

const fs::path kCacheDir = fs::path(SF_TEST_BINARY_DIR) / "build-executor-test-cache";

PluginHost& host() { return test::build_plugins(); }

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class BuildExecutorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The trixie build image exactly as build-slurm prepares it (same definition, same tag).
    image_ = test::prepare_build_image("trixie", "", kCacheDir, skip_reason_);
    release_ = image_.release;
  }

  void SetUp() override {
    if (!skip_reason_.empty()) SF_REQUIRE_OR_SKIP(skip_reason_);
    keys_ = std::make_unique<test::ThrowawaySigning>("sf-build-executor",
                                                     "Executor <e@example.invalid>");
    root_ = keys_->root;
  }
  void TearDown() override { keys_.reset(); }

  // `version`: the root recipe's version (the planner's "Slurm version" is the root's).
  Plan plan_for(const std::string& root, const std::string& version) {
    return test::plan_shipped_recipe(image_, root, version, kCacheDir);
  }

  std::unique_ptr<CacheChain> chain() {
    return test::local_cache_chain(root_ / "cache", keys_->verifier.get());
  }

  BuildReport build(const Plan& plan, CacheChain& c, bool network = false) {
    BuildExecutorOptions o = test::build_options(image_, kCacheDir, keys_->signer.get());
    o.network = network;
    BuildExecutor ex([] { return host().make_container_backend("docker", {}); }, c, o);
    return ex.run(plan);
  }

  // Every dynamic ELF file of the entry, with its RUNPATH checked.
  int check_runpaths(const fs::path& tarball) {
    const fs::path tree = root_ / ("unpacked-" + tarball.filename().string());
    int elves = 0;
    for (const auto& [path, info] : test::unpack_entry_elf_files(tarball, tree)) {
      if (!info.has_dynamic) continue;
      ++elves;
      EXPECT_TRUE(info.rpath.empty()) << path;
      EXPECT_FALSE(info.runpath.empty()) << path << " has no RUNPATH";
      for (const auto& r : info.runpath) {
        EXPECT_EQ(r.rfind("$ORIGIN", 0), 0U) << path << ": RUNPATH entry " << r;
      }
      EXPECT_NE(path.extension(), ".la");
      const auto rel = path.lexically_relative(tree);
      if (rel.parent_path() == "lib") {
        EXPECT_EQ(info.runpath, (std::vector<std::string>{"$ORIGIN", "$ORIGIN/slurm"}));
      }
      if (rel.parent_path() == "bin") {
        EXPECT_EQ(info.runpath,
                  (std::vector<std::string>{"$ORIGIN/../lib", "$ORIGIN/../lib/slurm"}));
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

TEST_F(BuildExecutorTest, BuildsLz4RelocatedSignedAndARerunBuildsNothing) {
  const Plan plan = plan_for("lz4", "1.10.0");
  ASSERT_EQ(plan.packages.size(), 1U);
  auto c = chain();
  const BuildReport first = build(plan, *c);
  ASSERT_EQ(first.packages.size(), 1U);
  EXPECT_EQ(first.built(), 1U);
  const auto& out = first.packages[0];
  EXPECT_EQ(out.written_to, (std::vector<std::string>{"local"}));
  EXPECT_TRUE(fs::is_regular_file(root_ / "cache" / out.key.tarball()));
  EXPECT_TRUE(fs::is_regular_file(root_ / "cache" / out.key.signature())) << "entry not signed";
  EXPECT_TRUE(fs::is_regular_file(out.log_file));
  EXPECT_NE(read_file(out.log_file).find("==> [lz4 1.10.0] install"), std::string::npos);
  EXPECT_GE(check_runpaths(out.tarball), 1);  // liblz4.so.1.10.0

  auto c2 = chain();
  const BuildReport second = build(plan, *c2);
  EXPECT_EQ(second.built(), 0U);
  EXPECT_EQ(second.cached(), 1U);
  EXPECT_EQ(second.packages[0].layer, "local");
}

TEST_F(BuildExecutorTest, BuildsJsonCWithCmake) {
  const Plan plan = plan_for("json-c", "0.18");
  auto c = chain();
  const BuildReport report = build(plan, *c);
  ASSERT_EQ(report.built(), 1U);
  EXPECT_GE(check_runpaths(report.packages[0].tarball), 1);  // libjson-c.so.5
}

TEST_F(BuildExecutorTest, AFailingStepIsABuildErrorWithItsDebugBundle) {
  Plan plan = plan_for("lz4", "1.10.0");
  auto& spec = plan.packages[0];
  spec.build_args = {"-C", "lib", "no-such-target"};
  spec.hash = std::string(64, 'e');  // never a real entry
  auto c = chain();
  try {
    build(plan, *c);
    FAIL() << "the build should have failed";
  } catch (const BuildError& e) {
    EXPECT_EQ(e.context_value("package"), "lz4");
    EXPECT_EQ(e.context_value("stage"), "build");
    EXPECT_NE(std::string(e.what()).find("no-such-target"), std::string::npos) << e.what();
    const fs::path bundle = e.context_value("debug bundle");
    EXPECT_TRUE(fs::is_regular_file(bundle / "build.log"));
    EXPECT_TRUE(fs::is_regular_file(bundle / "build.sh"));
    const std::string rerun = read_file(bundle / "rerun.sh");
    EXPECT_NE(rerun.find("SF_ONLY_STAGE=build"), std::string::npos) << rerun;
    EXPECT_NE(rerun.find("--network none"), std::string::npos) << rerun;
    EXPECT_EQ(e.context_value("rerun").find("docker run"), 0U);
  }
  EXPECT_FALSE(fs::exists(root_ / "cache" / entry_key_for(spec).tarball()));
}

// A recipe patch is read from the recipe's folder (PatchRef::path, resolved by the planner), not
// from the working directory, and applied before the build: the patched file is what make reads.
TEST_F(BuildExecutorTest, ARecipePatchIsReadFromTheRecipeFolderAndApplied) {
  Plan plan = plan_for("lz4", "1.10.0");
  auto& spec = plan.packages[0];
  fs::create_directories(root_ / "recipes" / "patches");
  const fs::path patch = root_ / "recipes" / "patches" / "sf-marker.patch";
  std::ofstream(patch) << "--- /dev/null\n+++ b/SF-PATCHED\n@@ -0,0 +1 @@\n+patched-by-recipe\n";
  spec.patches.push_back({"patches/sf-marker.patch", std::string(64, '0'), 1, patch.string(), {}});
  // make prints the patched file, then fails on purpose (fast; the log stays in the bundle).
  spec.build_args = {"--eval=$(info SF-PATCH:[$(shell cat SF-PATCHED)])", "no-such-target"};
  spec.hash = std::string(63, 'f') + "2";  // never a real entry
  ASSERT_NE(fs::current_path(), root_ / "recipes");
  auto c = chain();
  try {
    build(plan, *c);
    FAIL() << "the build should have failed";
  } catch (const BuildError& e) {
    ASSERT_EQ(e.context_value("stage"), "build") << e.what();
    const std::string log = read_file(fs::path(e.context_value("debug bundle")) / "build.log");
    EXPECT_NE(log.find("applying sf-marker.patch (-p1)"), std::string::npos) << log;
    EXPECT_NE(log.find("SF-PATCH:[patched-by-recipe]"), std::string::npos) << log;
  }
}

// build.network: the build step has no network device but the loopback by default, and the
// engine's default network (eth0) when build.network is true; the debug bundle's rerun command
// runs the step with the same network.
TEST_F(BuildExecutorTest, TheBuildStepHasNetworkOnlyWhenBuildNetworkIsSet) {
  for (const bool network : {false, true}) {
    Plan plan = plan_for("lz4", "1.10.0");
    auto& spec = plan.packages[0];
    // make prints the container's network devices before reading any makefile, then fails on
    // purpose (fast, and the failure leaves a debug bundle with the rerun command).
    spec.build_args = {"--eval=$(info SF-NET:[$(shell ls /sys/class/net)])", "no-such-target"};
    spec.hash = std::string(63, 'f') + (network ? "1" : "0");  // never a real entry
    auto c = chain();
    try {
      build(plan, *c, network);
      FAIL() << "the build should have failed";
    } catch (const BuildError& e) {
      const fs::path bundle = e.context_value("debug bundle");
      const std::string log = read_file(bundle / "build.log");
      const std::string rerun = read_file(bundle / "rerun.sh");
      if (network) {
        EXPECT_NE(log.find("SF-NET:[eth0 lo]"), std::string::npos) << log;
        EXPECT_EQ(rerun.find("--network"), std::string::npos) << rerun;
      } else {
        EXPECT_NE(log.find("SF-NET:[lo]"), std::string::npos) << log;
        EXPECT_NE(rerun.find("--network none"), std::string::npos) << rerun;
      }
    }
  }
}

// Dependencies are extracted through the verifying unpack, pinned to the entry the run built or
// verified: a tarball swapped in the run's entries folder afterwards (a valid archive with other
// content) is refused, whether the dependency was built or came from the cache, and the dependent
// is not built from it.
TEST_F(BuildExecutorTest, ASwappedEntryIsNotUnpacked) {
  // Two stand-in recipes (plain make): dep installs share/dep/data.txt, app copies what it reads
  // there into its own tree.
  auto recipe = [&](const std::string& name, const std::string& makefile, const std::string& more) {
    const std::string dirname = name + "-1.0";
    fs::create_directories(root_ / "src" / dirname);
    std::ofstream(root_ / "src" / dirname / "Makefile") << makefile;
    const fs::path tgz = root_ / (dirname + ".tar.gz");
    ASSERT_EQ(std::system(("tar -C '" + (root_ / "src").string() + "' -czf '" + tgz.string() +
                           "' " + dirname)
                              .c_str()),
              0);
    auto sha = sha256_file_hex(tgz);
    ASSERT_TRUE(sha);
    const fs::path cached = kCacheDir / "sourcecache" / *sha / tgz.filename();
    fs::create_directories(cached.parent_path());
    fs::copy_file(tgz, cached, fs::copy_options::overwrite_existing);
    fs::create_directories(root_ / "recipes");
    std::ofstream(root_ / "recipes" / (name + ".yaml"))
        << "name: " << name
        << "\ndescription: a stand-in\nhomepage: https://example.invalid\nlicense: MIT\n"
           "build_system: make\nfrom: source\nversions:\n  - version: \"1.0\"\n    sha256: "
        << *sha << "\n    file: " << dirname << ".tar.gz\n    strip_dir: " << dirname
        << "\n    mirrors:\n      - http://127.0.0.1:9/" << dirname << ".tar.gz\n"
        << more << "build:\n  - PREFIX=${prefix}\ninstall:\n  - install\n  - PREFIX=${prefix}\n";
  };
  recipe("dep",
         "PREFIX ?= /opt/slurm/view\nall:\n\techo genuine > data.txt\ninstall: all\n"
         "\tinstall -d $(DESTDIR)$(PREFIX)/share/dep\n"
         "\tinstall -m 644 data.txt $(DESTDIR)$(PREFIX)/share/dep/data.txt\n",
         "");
  recipe("app",
         "PREFIX ?= /opt/slurm/view\nall:\n\tcat $(PREFIX)/share/dep/data.txt > seen.txt\n"
         "install: all\n\tinstall -d $(DESTDIR)$(PREFIX)/share/app\n"
         "\tinstall -m 644 seen.txt $(DESTDIR)$(PREFIX)/share/app/seen.txt\n",
         "dependencies:\n  - dep\n");
  const RecipeBook book = RecipeBook::load_directory(root_ / "recipes");
  PlanRequest req;
  req.slurm_version = "1.0";
  req.toolchain = release_;
  req.toolchain_image_hash = image_.hash;
  req.root = "app";
  const Plan plan = make_plan(book, req);
  ASSERT_EQ(plan.packages.size(), 2U);
  const CacheEntryKey dep = entry_key_for(plan.packages[0]);
  const CacheEntryKey app = entry_key_for(plan.packages[1]);

  // Another valid entry tarball: the dependency's file with other bytes, and one more file.
  const fs::path evil = root_ / "evil";
  fs::create_directories(evil / "share/dep");
  std::ofstream(evil / "share/dep/data.txt") << "tampered\n";
  std::ofstream(evil / "share/dep/more.txt") << "added\n";

  int run = 0;
  auto build_swapping = [&](bool swap) {
    BuildExecutorOptions o;
    o.cache_dir = kCacheDir;
    o.image = image_.tag;
    o.jobs = 2;
    o.signer = keys_->signer.get();
    o.build_id = "swap-" + std::to_string(::getpid()) + "-" + std::to_string(++run);
    const fs::path entries = kCacheDir / "work" / o.build_id / "entries";
    auto c = chain();
    BuildExecutor ex([] { return host().make_container_backend("docker", {}); }, *c, o);
    return ex.run(plan, [&](const BuildEvent& e) {
      if (swap && e.package == "dep" && (e.kind == "built" || e.kind == "cached")) {
        auto w = write_archive(evil, entries / dep.tarball());
        ASSERT_TRUE(w) << w.error().message;
      }
    });
  };
  for (const char* how : {"built", "cached"}) {
    try {
      build_swapping(true);
      ADD_FAILURE() << "app was built from a swapped entry of dep (" << how << ")";
    } catch (const BuildError& e) {
      EXPECT_EQ(e.context_value("package"), "app") << e.what();
      EXPECT_EQ(e.context_value("dependency"), "dep") << e.what();
      EXPECT_NE(std::string(e.what()).find("cannot unpack the entry of dep"), std::string::npos)
          << e.what();
    }
    EXPECT_TRUE(fs::is_regular_file(root_ / "cache" / dep.tarball())) << how;
    EXPECT_FALSE(fs::exists(root_ / "cache" / app.tarball())) << how;
  }

  // Untouched, app builds from the genuine entry.
  const BuildReport ok = build_swapping(false);
  EXPECT_EQ(ok.built(), 1U);
  EXPECT_EQ(ok.cached(), 1U);
  const fs::path unpacked = root_ / "app-unpacked";
  ASSERT_TRUE(extract_archive(root_ / "cache" / app.tarball(), unpacked));
  EXPECT_EQ(read_file(unpacked / "share/app/seen.txt"), "genuine\n");
}

}  // namespace
}  // namespace sf
