// `slurm-factory rebuild` through the CLI entry point against the real trixie build image
// (docker), on the path that needs no build: a provenance whose recorded image package list
// differs from what the image holds now is refused with exit 14, naming the package that moved
// with both versions, before anything is built.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../support/cli_runner.hpp"
#include "../support/requirement.hpp"
#include "config/config.hpp"
#include "pipeline/artifact_rebuild.hpp"
#include "plugin_host/plugin_host.hpp"
#include "slurm_factory/archive_writer.hpp"
#include "slurm_factory/errors.hpp"
#include "toolchains/image_package_list.hpp"
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

TEST(RebuildCommand, RefusesWhenTheImagePackagesMovedAndNamesThem) {
  auto backend = host().make_container_backend("docker", nlohmann::json::object());
  try {
    backend->info();
  } catch (const ContainerError& e) {
    SF_REQUIRE_OR_SKIP(std::string("docker does not answer: ") + e.what());
  }
  const fs::path dir = fs::temp_directory_path() / ("sf-rebuild-cmd-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "cache");
  ::setenv("HOME", dir.c_str(), 1);
  ::setenv("SLURM_FACTORY_PLUGIN_PATH", SF_TEST_PLUGIN_DIR, 1);
  ::unsetenv("SLURM_FACTORY_CACHE_DIR");
  const fs::path config = dir / "config.yaml";
  std::ofstream(config) << "cache_dir: " << (dir / "cache").string() << "\n";

  // What the image holds now, with one package recorded at another version.
  Config c;
  auto catalog = make_toolchain_catalog(host(), c);
  ToolchainImageRequest req;
  req.release = catalog.get("trixie");
  req.setup_script = catalog.setup_script("trixie");
  req.bootstrap = catalog.bootstrap_recipe("trixie");
  req.family = catalog.shared_family_of("trixie");
  req.cache_dir = dir / "cache";
  const auto image = prepare_toolchain_image(*backend, req);
  auto list =
      image_package_list(*backend, image.tag, backend->inspect_image(image.tag)->id, dir / "cache");
  std::string moved;
  for (auto& p : list.packages) {
    if (p.rfind("dpkg:", 0) == 0) {
      moved = p.substr(0, p.find('=')) + "  0.0-recorded -> " + p.substr(p.find('=') + 1);
      p = p.substr(0, p.find('=')) + "=0.0-recorded";
    }
  }
  ASSERT_FALSE(moved.empty());

  fs::create_directories(dir / "tree/view");
  std::ofstream(dir / "tree/view/x") << "x";
  const fs::path artifact = dir / "slurm-24.11.5-trixie-amd64-software.tar.zst";
  ASSERT_TRUE(write_archive(dir / "tree", artifact));
  nlohmann::json prov{{"slurm_version", "24.11.5"},
                      {"toolchain",
                       {{"name", "trixie"},
                        {"arch", "amd64"},
                        {"image_hash", toolchain_image_hash(req)},
                        {"image_packages", list.packages}}},
                      {"plan", {{"request", {{"gpu", nlohmann::json::array()}}}}},
                      {"packages", nlohmann::json::array()}};
  std::ofstream(dir / "slurm-24.11.5-trixie-amd64-software.provenance.json") << prov.dump(2);

  std::ostringstream out;
  std::ostringstream err;
  const int rc = test::run_cli(config, {"rebuild", artifact.string()}, out, err);
  EXPECT_EQ(rc, kRebuildRefused) << out.str() << err.str();
  EXPECT_NE(out.str().find("1 package(s) differ"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find(moved), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("refused"), std::string::npos) << out.str();
  EXPECT_FALSE(fs::exists(dir / ("cache/tmp/rebuild-" + std::to_string(::getpid()))));

  // --json: the same, machine-readable.
  const int rc2 = test::run_cli(config, {"--json", "rebuild", artifact.string()}, out, err);
  EXPECT_EQ(rc2, kRebuildRefused);
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_TRUE(j["refused"].get<bool>());
  EXPECT_EQ(j["image_changes"].size(), 1U);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sf
