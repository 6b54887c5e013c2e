// A correct test plugin: a toolchain family with one release and three features (one well-behaved,
// one whose factory throws, one whose factory returns nothing). Logs through the host's logger.
#include <spdlog/spdlog.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "slurm_factory/feature.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"
#include "slurm_factory/toolchain.hpp"

namespace {

class TestFamily final : public sf::ToolchainFamily {
 public:
  std::string name() const override { return "test-family"; }
  std::vector<sf::ToolchainRelease> releases() const override {
    sf::ToolchainRelease r;
    r.name = "test-release";
    r.family = "test-family";
    r.os_name = "Test OS 1.0";
    r.gcc_version = "1.0";
    r.glibc_version = "2.0";
    r.base_image = "localhost/test:1.0";
    r.origin = "plugin test-good";
    return {r};
  }
};

class TestFeature final : public sf::Feature {
 public:
  std::string name() const override { return "test-feature"; }
  std::vector<std::string> image_packages(const sf::ToolchainRelease&) const override {
    return {"test-package"};
  }
  std::vector<std::string> configure_args() const override { return {"--with-test"}; }
  std::vector<std::string> required_slurm_plugins() const override { return {}; }
};

void register_plugin(sf::Registry& registry) {
  registry.context().logger->info("test-good registering from {}", registry.context().plugin_file);
  registry.add_toolchain_family("test-family", [] { return std::make_unique<TestFamily>(); });
  registry.add_feature("test-feature", [] { return std::make_unique<TestFeature>(); });
  registry.add_feature("test-throwing-feature", []() -> std::unique_ptr<sf::Feature> {
    throw std::runtime_error("feature factory failed on purpose");
  });
  registry.add_feature("test-null-feature",
                       []() -> std::unique_ptr<sf::Feature> { return nullptr; });
}

}  // namespace

SLURM_FACTORY_PLUGIN("test-good", "1.2.3", "A correct plugin used by the plugin host tests",
                     register_plugin)
