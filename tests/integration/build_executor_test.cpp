// The build executor on docker: real recipes (lz4, plain make; json-c, cmake) built in the real
// trixie toolchain image (bootstrapped offline when it is not there yet), relocated, signed with a
// throwaway key and written to a real local cache layer; every ELF's RUNPATH is $ORIGIN-relative,
// a rerun builds nothing, and a failing step is a BuildError with its debug bundle.
#include "slurm_factory/core/build_executor.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "../support/requirement.hpp"
#include "slurm_factory/core/archive_reader.hpp"
#include "slurm_factory/core/cache_chain.hpp"
#include "slurm_factory/core/config.hpp"
#include "slurm_factory/core/elf_reader.hpp"
#include "slurm_factory/core/gpg_signer.hpp"
#include "slurm_factory/core/gpg_verifier.hpp"
#include "slurm_factory/core/plugin_host.hpp"
#include "slurm_factory/core/recipe_book.hpp"
#include "slurm_factory/core/source_fetcher.hpp"
#include "slurm_factory/core/toolchain_catalog.hpp"
#include "slurm_factory/core/toolchain_image.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

const fs::path kCacheDir = fs::path(SF_TEST_BINARY_DIR) / "build-executor-test-cache";

PluginHost& host() {
  static PluginHost h;
  static std::once_flag once;
  std::call_once(once, [] {
    for (const char* p : {"toolchain-debian", "backend-docker", "cache-local"}) {
      h.load_file(fs::path(SF_TEST_PLUGIN_DIR) / (std::string("libsf-") + p + ".so"));
    }
  });
  return h;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class BuildExecutorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto backend = host().make_container_backend("docker", nlohmann::json::object());
    try {
      backend->info();
    } catch (const ContainerError& e) {
      skip_reason_ = std::string("docker does not answer: ") + e.what();
      return;
    }
    // The trixie build image exactly as build-slurm prepares it (same definition, same tag).
    Config config;
    catalog_ = std::make_unique<ToolchainCatalog>(make_toolchain_catalog(host(), config));
    ToolchainImageRequest req;
    req.release = catalog_->get("trixie");
    req.setup_script = catalog_->setup_script("trixie");
    req.bootstrap = catalog_->bootstrap_recipe("trixie");
    req.cache_dir = kCacheDir;
    image_ = new ToolchainImage(prepare_toolchain_image(*backend, req));
    image_hash_ = toolchain_image_hash(req);
    release_ = req.release;
  }
  static void TearDownTestSuite() {
    delete image_;
    image_ = nullptr;
    catalog_.reset();
  }

  void SetUp() override {
    if (!skip_reason_.empty()) SF_REQUIRE_OR_SKIP(skip_reason_);
    root_ = fs::temp_directory_path() /
            ("sf-build-executor-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "gnupg");
    fs::permissions(root_ / "gnupg", fs::perms::owner_all, fs::perm_options::replace);
    fpr_ = GpgSigner::generate_key((root_ / "gnupg").string(), "Executor <e@example.invalid>");
    signer_ = std::make_unique<GpgSigner>(
        GpgSignerOptions{(root_ / "gnupg").string(), fpr_, {}, {}, {}, {}});
    verifier_ = std::make_unique<GpgVerifier>(GpgTrust{(root_ / "gnupg").string(), {fpr_}});
  }
  void TearDown() override {
    signer_.reset();
    verifier_.reset();
    std::error_code ec;
    if (!root_.empty()) fs::remove_all(root_, ec);
  }

  // `version`: the root recipe's version (the planner's "Slurm version" is the root's).
  Plan plan_for(const std::string& root, const std::string& version) {
    static RecipeBook book = RecipeBook::load_directory(RecipeBook::default_directory());
    PlanRequest req;
    req.slurm_version = version;
    req.toolchain = release_;
    req.toolchain_image_hash = image_hash_;
    req.root = root;
    Plan plan = make_plan(book, req);
    // Sources are shared between runs (keyed by sha256, verified).
    SourceFetcher(kCacheDir).fetch_all(SourceFetcher::items_for(plan));
    return plan;
  }

  std::unique_ptr<CacheChain> chain() {
    std::vector<std::unique_ptr<CacheProvider>> layers;
    layers.push_back(host().make_cache_provider(
        {"local", "local", "file://" + (root_ / "cache").string(), true, {}}));
    CacheChainOptions o;
    o.trust.verifier = verifier_.get();
    return std::make_unique<CacheChain>(std::move(layers), o);
  }

  BuildReport build(const Plan& plan, CacheChain& c, bool network = false) {
    BuildExecutorOptions o;
    o.network = network;
    o.cache_dir = kCacheDir;
    o.image = image_->tag;
    o.jobs = 2;
    o.memory_bytes = 2LL << 30;
    o.signer = signer_.get();
    BuildExecutor ex([] { return host().make_container_backend("docker", {}); }, c, o);
    return ex.run(plan);
  }

  // Every dynamic ELF file of the entry, with its RUNPATH checked.
  int check_runpaths(const fs::path& tarball) {
    const fs::path tree = root_ / ("unpacked-" + tarball.filename().string());
    auto x = extract_archive(tarball, tree);
    EXPECT_TRUE(x) << (x ? "" : x.error().message);
    int elves = 0;
    for (const auto& e : fs::recursive_directory_iterator(tree)) {
      if (e.is_symlink() || !e.is_regular_file() || !is_elf_file(e.path())) continue;
      auto info = read_elf(e.path());
      if (!info || !info->has_dynamic) continue;
      ++elves;
      EXPECT_TRUE(info->rpath.empty()) << e.path();
      EXPECT_FALSE(info->runpath.empty()) << e.path() << " has no RUNPATH";
      for (const auto& r : info->runpath) {
        EXPECT_EQ(r.rfind("$ORIGIN", 0), 0U) << e.path() << ": RUNPATH entry " << r;
      }
      EXPECT_NE(e.path().extension(), ".la");
      const auto rel = e.path().lexically_relative(tree);
      if (rel.parent_path() == "lib") {
        EXPECT_EQ(info->runpath, (std::vector<std::string>{"$ORIGIN", "$ORIGIN/slurm"}));
      }
      if (rel.parent_path() == "bin") {
        EXPECT_EQ(info->runpath,
                  (std::vector<std::string>{"$ORIGIN/../lib", "$ORIGIN/../lib/slurm"}));
      }
    }
    return elves;
  }

  static inline std::string skip_reason_;
  static inline std::unique_ptr<ToolchainCatalog> catalog_;
  static inline ToolchainImage* image_ = nullptr;
  static inline std::string image_hash_;
  static inline ToolchainRelease release_;
  fs::path root_;
  std::string fpr_;
  std::unique_ptr<GpgSigner> signer_;
  std::unique_ptr<GpgVerifier> verifier_;
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

}  // namespace
}  // namespace sf
