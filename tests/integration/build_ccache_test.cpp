// build.ccache on docker: a stand-in C package (plain make, four .c files) built in the real
// trixie toolchain image twice with different package hashes shares the compiler cache of the
// image (<cache_dir>/ccache/<image hash>): the second build's log shows every compile as a hit.
// A cache whose files are all truncated costs misses, never the build; `ccache: false` mounts
// nothing.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>

#include "../support/build_image.hpp"
#include "../support/requirement.hpp"
#include "build/build_executor.hpp"
#include "build/build_tree_store.hpp"
#include "cache/cache_chain.hpp"
#include "config/config.hpp"
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

const fs::path kCacheDir = fs::path(SF_TEST_BINARY_DIR) / "build-ccache-test-cache";
constexpr int kSources = 4;

PluginHost& host() { return test::build_plugins(); }

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first "Hits: H / C" line of the ccache statistics in a build log: {H, C}, or {-1, -1}.
std::pair<int, int> ccache_hits(const std::string& log) {
  static const std::regex re(R"(Hits:\s+(\d+)\s*/\s*(\d+))");
  std::smatch m;
  if (!std::regex_search(log, m, re)) return {-1, -1};
  return {std::stoi(m[1]), std::stoi(m[2])};
}

class BuildCcacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The trixie build image exactly as build-slurm prepares it (ccache is one of its tools).
    const auto image = test::prepare_build_image("trixie", "", kCacheDir, skip_reason_);
    image_tag_ = image.tag;
    image_hash_ = image.hash;
    release_ = image.release;
  }

  void SetUp() override {
    if (!skip_reason_.empty()) SF_REQUIRE_OR_SKIP(skip_reason_);
    keys_ =
        std::make_unique<test::ThrowawaySigning>("sf-build-ccache", "Ccache <c@example.invalid>");
    root_ = keys_->root;
    // Every test starts from an empty compiler cache of the image.
    ccache_ = ccache_dir_for(kCacheDir, image_hash_);
    fs::remove_all(ccache_);
    plan_ = make_stand_in();
  }
  void TearDown() override { keys_.reset(); }

  // The stand-in: four C files (unique to this run, so no other run's objects can hit) compiled
  // with $(CC) into a shared library.
  Plan make_stand_in(const std::string& version = "1.0", int changed = -1,
                     bool incremental = false) {
    const std::string dirname = "ccdemo-" + version;
    const fs::path src = root_ / "src" / dirname;
    fs::create_directories(src);
    std::string objs;
    for (int i = 0; i < kSources; ++i) {
      std::ofstream(src / ("f" + std::to_string(i) + ".c"))
          << "/* run " << root_.filename().string() << " */\n#include <stdio.h>\nint f" << i
          << "(int x) { return x * " << (i == changed ? 100 : i + 2) << "; }\n";
      objs += " f" + std::to_string(i) + ".o";
    }
    std::ofstream(src / "Makefile")
        << "PREFIX ?= /opt/slurm/view\nOBJS =" << objs
        << "\nall: libccdemo.so\n%.o: %.c\n\t$(CC) $(CFLAGS) -fPIC -c $< -o $@\n"
           "libccdemo.so: $(OBJS)\n\t$(CC) -shared -o $@ $(OBJS)\n"
           "install: all\n\tinstall -d $(DESTDIR)$(PREFIX)/lib\n"
           "\tinstall -m 755 libccdemo.so $(DESTDIR)$(PREFIX)/lib/libccdemo.so\n";
    const fs::path tgz = root_ / (dirname + ".tar.gz");
    EXPECT_EQ(std::system(("tar -C '" + (root_ / "src").string() + "' -czf '" + tgz.string() +
                           "' " + dirname)
                              .c_str()),
              0);
    auto sha = sha256_file_hex(tgz);
    EXPECT_TRUE(sha);
    const fs::path cached = kCacheDir / "sourcecache" / *sha / tgz.filename();
    fs::create_directories(cached.parent_path());
    fs::copy_file(tgz, cached, fs::copy_options::overwrite_existing);
    fs::create_directories(root_ / "recipes");
    std::ofstream(root_ / "recipes" / "ccdemo.yaml")
        << "name: ccdemo\ndescription: a stand-in\nhomepage: https://example.invalid\n"
           "license: MIT\nbuild_system: make\nfrom: source\n"
        << (incremental ? "incremental: true\n" : "") << "versions:\n  - version: \"" << version
        << "\"\n    sha256: " << *sha << "\n    file: " << dirname
        << ".tar.gz\n    strip_dir: " << dirname << "\n    mirrors:\n      - http://127.0.0.1:9/"
        << dirname
        << ".tar.gz\nbuild:\n  - PREFIX=${prefix}\ninstall:\n  - install\n  - PREFIX=${prefix}\n";
    const RecipeBook book = RecipeBook::load_directory(root_ / "recipes");
    PlanRequest req;
    req.slurm_version = version;
    req.toolchain = release_;
    req.toolchain_image_hash = image_hash_;
    req.root = "ccdemo";
    return make_plan(book, req);
  }

  // The plan with one more (harmless) make argument: a new package hash, the same compiles, as a
  // recipe change that does not touch the sources gives.
  Plan variant(const std::string& tag) const {
    Plan p = plan_;
    p.packages[0].build_args.push_back("SF_TEST_VARIANT=" + tag);
    p.packages[0].hash = std::string(48, 'c') + (tag + std::string(16, '0')).substr(0, 16);
    return p;
  }

  PackageOutcome build(const Plan& plan, bool ccache = true, bool incremental = true,
                       const std::string& layer = "cache") {
    std::vector<std::unique_ptr<CacheProvider>> layers;
    layers.push_back(host().make_cache_provider(
        {"local", "local", "file://" + (root_ / layer).string(), true, {}}));
    CacheChainOptions co;
    co.trust.verifier = keys_->verifier.get();
    CacheChain chain(std::move(layers), co);
    BuildExecutorOptions o;
    o.cache_dir = kCacheDir;
    o.image = image_tag_;
    o.jobs = 2;
    o.memory_bytes = 2LL << 30;
    o.signer = keys_->signer.get();
    o.ccache = ccache;
    o.incremental = incremental;
    BuildExecutor ex([] { return host().make_container_backend("docker", {}); }, chain, o);
    const BuildReport r = ex.run(plan);
    EXPECT_EQ(r.built(), 1U);
    return r.packages.at(0);
  }

  static inline std::string skip_reason_;
  static inline std::string image_tag_;
  static inline std::string image_hash_;
  static inline ToolchainRelease release_;
  fs::path root_;
  fs::path ccache_;
  Plan plan_;
  std::unique_ptr<test::ThrowawaySigning> keys_;
};

TEST_F(BuildCcacheTest, ASecondBuildWithAnotherHashHitsTheImagesCompilerCache) {
  ASSERT_EQ(plan_.packages.size(), 1U);
  const PackageOutcome first = build(variant("1"));
  const std::string log1 = read_file(first.log_file);
  EXPECT_NE(log1.find("==> [ccdemo 1.0] ccache-stats"), std::string::npos) << log1;
  EXPECT_EQ(ccache_hits(log1), std::make_pair(0, kSources)) << log1;

  // The folder: under the cache dir, named by the image hash, ours alone.
  ASSERT_TRUE(fs::is_directory(ccache_));
  struct stat st {};
  ASSERT_EQ(::stat(ccache_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700U);

  const PackageOutcome second = build(variant("2"));
  EXPECT_NE(second.hash, first.hash);
  const std::string log2 = read_file(second.log_file);
  EXPECT_EQ(ccache_hits(log2), std::make_pair(kSources, kSources)) << log2;
}

TEST_F(BuildCcacheTest, ACorruptCompilerCacheCostsMissesNotTheBuild) {
  (void)build(variant("1"));
  // Every file of the cache cut to half its size (or emptied).
  int truncated = 0;
  for (const auto& e : fs::recursive_directory_iterator(ccache_)) {
    if (!e.is_regular_file()) continue;
    fs::resize_file(e.path(), e.file_size() / 2);
    ++truncated;
  }
  ASSERT_GE(truncated, kSources);
  const PackageOutcome again = build(variant("2"));
  const auto [hits, calls] = ccache_hits(read_file(again.log_file));
  EXPECT_EQ(calls, kSources);
  EXPECT_EQ(hits, 0) << "a truncated object was served";
  // The damaged entries were replaced: the next build hits again.
  const PackageOutcome third = build(variant("3"));
  EXPECT_EQ(ccache_hits(read_file(third.log_file)), std::make_pair(kSources, kSources));
}

// The trees kept in a package's folder of the store (slots holding tree/src).
int kept_trees(const fs::path& dir) {
  int n = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (fs::is_directory(it->path() / "tree" / "src")) ++n;
  }
  return n;
}

// Incremental rebuilds (build_tree_store.hpp) on the same stand-in, marked `incremental: true`:
// release 1.1 changes f2.c only. Its build takes the tree 1.0 left, compiles f2.c alone and gives
// the very bytes a build of 1.1 from scratch gives.
TEST_F(BuildCcacheTest, IncrementalRebuildCompilesOnlyTheChangedFile) {
  const BuildTreeStore trees(kCacheDir);
  fs::remove_all(trees.dir_for(image_hash_, "ccdemo"));
  const PackageOutcome first = build(make_stand_in("1.0", -1, true));
  EXPECT_EQ(kept_trees(trees.dir_for(image_hash_, "ccdemo")), 1);
  EXPECT_FALSE(first.incremental);

  const Plan release = make_stand_in("1.1", 2, true);
  const PackageOutcome second = build(release);
  EXPECT_NE(second.hash, first.hash);
  EXPECT_TRUE(second.incremental);
  const std::string log = read_file(second.log_file);
  EXPECT_NE(log.find("reusing the build tree of the previous build: 1 source file(s) changed or "
                     "new, 0 gone"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("-c f2.c"), std::string::npos) << log;
  for (const char* unchanged : {"-c f0.c", "-c f1.c", "-c f3.c"}) {
    EXPECT_EQ(log.find(unchanged), std::string::npos) << unchanged << " recompiled:\n" << log;
  }

  // From scratch: no tree, its own cache layer (the entry above would be a hit).
  fs::remove_all(trees.dir_for(image_hash_, "ccdemo"));
  const PackageOutcome cold = build(release, true, false, "cold-cache");
  EXPECT_FALSE(cold.incremental);
  EXPECT_EQ(cold.hash, second.hash);
  EXPECT_EQ(kept_trees(trees.dir_for(image_hash_, "ccdemo")), 0) << "kept while off";
  // The two entries, unpacked from their layers: the same library, byte for byte.
  for (const std::string layer : {"cache", "cold-cache"}) {
    std::string tarball;
    for (const auto& e : fs::recursive_directory_iterator(root_ / layer)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("ccdemo-1.1-", 0) == 0 && name.ends_with(".tar.zst")) tarball = e.path();
    }
    ASSERT_FALSE(tarball.empty()) << "no ccdemo 1.1 entry in " << layer;
    fs::create_directories(root_ / ("x-" + layer));
    ASSERT_EQ(std::system(("tar --zstd -xf '" + tarball + "' -C '" +
                           (root_ / ("x-" + layer)).string() + "'")
                              .c_str()),
              0);
  }
  const std::string a = read_file(root_ / "x-cache" / "lib" / "libccdemo.so");
  const std::string b = read_file(root_ / "x-cold-cache" / "lib" / "libccdemo.so");
  EXPECT_GT(a.size(), 1000U);
  EXPECT_TRUE(a == b) << "the incremental build's library differs from the cold build's";
}

TEST_F(BuildCcacheTest, CcacheOffMountsNothingAndUsesThePlainCompiler) {
  const PackageOutcome out = build(variant("1"), false);
  const std::string log = read_file(out.log_file);
  EXPECT_EQ(log.find("ccache-stats"), std::string::npos) << log;
  EXPECT_EQ(ccache_hits(log).first, -1) << log;
  EXPECT_FALSE(fs::exists(ccache_));
}

}  // namespace
}  // namespace sf
