// A cache plugin that registers with add_cache_provider (no settings declared) and whose provider
// does not override get_at_most: the SDK's default (get, then a size check, implemented in the core
// library) answers it through the provider's vtable.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace {

class PlainProvider final : public sf::CacheProvider {
 public:
  std::string name() const override { return "plain"; }
  bool writable() const override { return false; }
  sf::Expected<bool> has(const std::string&) override { return true; }
  // Every object is 100 bytes.
  sf::Expected<void> get(const std::string&, const std::filesystem::path& destination) override {
    std::ofstream(destination, std::ios::binary) << std::string(100, 'o');
    return {};
  }
  sf::Expected<void> put(const std::string&, const std::filesystem::path&) override {
    return sf::Failure::read_only("read-only");
  }
  sf::Expected<std::vector<sf::CacheObject>> list(const std::string&) override {
    return std::vector<sf::CacheObject>{};
  }
  sf::Expected<void> remove(const std::string&) override {
    return sf::Failure::read_only("read-only");
  }
};

void register_plugin(sf::Registry& registry) {
  registry.add_cache_provider(
      "plain", [](const sf::CacheLayerSpec&) { return std::make_unique<PlainProvider>(); });
}

}  // namespace

SLURM_FACTORY_PLUGIN("test-cache-plain", "0.0.1", "a cache plugin using the default get_at_most",
                     register_plugin)
