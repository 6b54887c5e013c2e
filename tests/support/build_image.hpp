// What the integration tests that build real recipes share: the plugins they load (once per
// process), a Debian release's build image prepared exactly as build-slurm prepares it (native or,
// with an architecture, the cross-build image), and a throwaway signing key with its signer and
// verifier.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "build/build_executor.hpp"
#include "build/source_fetcher.hpp"
#include "cache/cache_chain.hpp"
#include "config/config.hpp"
#include "formats/archive_reader.hpp"
#include "formats/elf_reader.hpp"
#include "plugin_host/plugin_host.hpp"
#include "recipes/recipe_book.hpp"
#include "signing/gpg_signer.hpp"
#include "signing/gpg_verifier.hpp"
#include "slurm_factory/errors.hpp"
#include "toolchains/toolchain_catalog.hpp"
#include "toolchains/toolchain_image.hpp"
#include "toolchains/toolchain_resolution.hpp"
#include "throwaway_signing.hpp"

namespace sf::test {

// toolchain-debian, backend-docker and cache-local from the build tree's plugin folder.
inline PluginHost& build_plugins() {
  static PluginHost h;
  static std::once_flag once;
  std::call_once(once, [] {
    for (const char* p : {"toolchain-debian", "backend-docker", "cache-local"}) {
      h.load_file(std::filesystem::path(SF_TEST_PLUGIN_DIR) / (std::string("libsf-") + p + ".so"));
    }
  });
  return h;
}

struct BuildImage {
  std::string tag;
  std::string hash;  // toolchain_image_hash: what every package hash of a plan for it names
  ToolchainRelease release;
};

// The build image of `release_name` for `arch` ("" = the host's; another is the cross image),
// bootstrapped offline when its base is missing, the bootstrap tarball and log under `cache_dir`.
// Empty tag and `skip_reason` set when docker does not answer.
inline BuildImage prepare_build_image(const std::string& release_name, const std::string& arch,
                                      const std::filesystem::path& cache_dir,
                                      std::string& skip_reason) {
  auto backend = build_plugins().make_container_backend("docker", nlohmann::json::object());
  try {
    backend->info();
  } catch (const ContainerError& e) {
    skip_reason = std::string("docker does not answer: ") + e.what();
    return {};
  }
  Config config;
  const ToolchainCatalog catalog = make_toolchain_catalog(build_plugins(), config);
  ToolchainImageRequest req;
  req.release = release_for_arch(catalog, release_name, arch);
  req.setup_script = catalog.family_of(release_name).setup_script(req.release, {});
  req.bootstrap = catalog.bootstrap_recipe(release_name);
  req.family = catalog.shared_family_of(release_name);
  req.cache_dir = cache_dir;
  BuildImage out;
  out.tag = prepare_toolchain_image(*backend, req).tag;
  out.hash = toolchain_image_hash(req);
  out.release = req.release;
  return out;
}

// The plan of one shipped recipe (`root` at `version`: the planner's "Slurm version" is the root's)
// for `image`, its sources fetched into `cache_dir`'s source cache (keyed by sha256, verified).
inline Plan plan_shipped_recipe(const BuildImage& image, const std::string& root,
                                const std::string& version,
                                const std::filesystem::path& cache_dir) {
  static const RecipeBook book = RecipeBook::load_directory(RecipeBook::default_directory());
  PlanRequest req;
  req.slurm_version = version;
  req.toolchain = image.release;
  req.toolchain_image_hash = image.hash;
  req.root = root;
  Plan plan = make_plan(book, req);
  SourceFetcher(cache_dir).fetch_all(SourceFetcher::items_for(plan));
  return plan;
}

// Executor options for builds in `image` (2 jobs, 2 GiB), signed by `signer`: a cross image's
// builds get its triplets, as build-slurm gives them.
inline BuildExecutorOptions build_options(const BuildImage& image,
                                          const std::filesystem::path& cache_dir,
                                          const GpgSigner* signer) {
  BuildExecutorOptions o;
  o.cache_dir = cache_dir;
  o.image = image.tag;
  o.jobs = 2;
  o.memory_bytes = 2LL << 30;
  o.signer = signer;
  if (is_cross_build(image.release)) {
    o.cross = CrossTriplets{multiarch_triplet(image.release.arch),
                            multiarch_triplet(image.release.build_arch)};
  }
  return o;
}

// A cache entry's tarball unpacked at `tree` (expected to succeed) and its ELF files (regular
// files, links left out), each with what libelf reads of it (a failure is a test failure).
struct EntryElf {
  std::filesystem::path path;  // under `tree`
  ElfInfo info;
};
inline std::vector<EntryElf> unpack_entry_elf_files(const std::filesystem::path& tarball,
                                                    const std::filesystem::path& tree) {
  auto x = extract_archive(tarball, tree);
  EXPECT_TRUE(x) << (x ? "" : x.error().message);
  std::vector<EntryElf> out;
  if (!x) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(tree)) {
    if (e.is_symlink() || !e.is_regular_file() || !is_elf_file(e.path())) continue;
    auto info = read_elf(e.path());
    EXPECT_TRUE(info) << e.path();
    if (info) out.push_back({e.path(), std::move(*info)});
  }
  return out;
}

// One writable local cache layer at `dir`, trusting what `verifier` trusts.
inline std::unique_ptr<CacheChain> local_cache_chain(const std::filesystem::path& dir,
                                                     const GpgVerifier* verifier) {
  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(
      build_plugins().make_cache_provider({"local", "local", "file://" + dir.string(), true, {}}));
  CacheChainOptions o;
  o.trust.verifier = verifier;
  return std::make_unique<CacheChain>(std::move(layers), o);
}

}  // namespace sf::test
