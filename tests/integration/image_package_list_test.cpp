// The toolchain image's exact package list, read in a real container of the trixie build image
// (docker): dpkg's packages with versions, kept per image id so the second read runs nothing.
#include "toolchains/image_package_list.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "../support/requirement.hpp"
#include "config/config.hpp"
#include "plugin_host/plugin_host.hpp"
#include "slurm_factory/errors.hpp"
#include "toolchains/toolchain_catalog.hpp"
#include "toolchains/toolchain_image.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

PluginHost& host() {
  static PluginHost h;
  static std::once_flag once;
  std::call_once(once, [] {
    for (const char* p : {"toolchain-debian", "backend-docker"}) {
      h.load_file(fs::path(SF_TEST_PLUGIN_DIR) / (std::string("libsf-") + p + ".so"));
    }
  });
  return h;
}

TEST(ImagePackageListDocker, ListsTheTrixieImagesPackagesOncePerImageId) {
  auto backend = host().make_container_backend("docker", nlohmann::json::object());
  try {
    backend->info();
  } catch (const ContainerError& e) {
    SF_REQUIRE_OR_SKIP(std::string("docker does not answer: ") + e.what());
  }
  const fs::path cache = fs::temp_directory_path() / ("sf-pkglist-" + std::to_string(::getpid()));
  fs::remove_all(cache);
  Config config;
  auto catalog = make_toolchain_catalog(host(), config);
  ToolchainImageRequest req;
  req.release = catalog.get("trixie");
  req.setup_script = catalog.setup_script("trixie");
  req.bootstrap = catalog.bootstrap_recipe("trixie");
  req.family = catalog.shared_family_of("trixie");
  req.cache_dir = cache;
  const auto image = prepare_toolchain_image(*backend, req);
  const auto id = backend->inspect_image(image.tag)->id;

  const auto list = image_package_list(*backend, image.tag, id, cache);
  EXPECT_GT(list.packages.size(), 100U);
  auto has = [&](const std::string& prefix) {
    return std::any_of(list.packages.begin(), list.packages.end(),
                       [&](const std::string& p) { return p.rfind(prefix, 0) == 0; });
  };
  EXPECT_TRUE(has("dpkg:amd64=")) << list.packages.front();
  EXPECT_TRUE(has("gcc:amd64="));
  EXPECT_TRUE(std::is_sorted(list.packages.begin(), list.packages.end()));

  // Kept per image id: the second read is the same list, from the file.
  const auto kept = cache / "toolchains";
  ASSERT_TRUE(fs::is_directory(kept));
  const auto again = image_package_list(*backend, "no-such-image:never", id, cache);
  EXPECT_EQ(again.sha256, list.sha256);
  fs::remove_all(cache);
}

}  // namespace
}  // namespace sf
