// A cache plugin that says it was built for ABI 1.1 (hand-written descriptor): it registers with
// add_cache_provider (no settings declared), and its provider answers only the 1.1 calls. The host
// must wrap it so that get_at_most (ABI 1.2) works on it as get plus a size check.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace {

class Abi11Provider final : public sf::CacheProvider {
 public:
  std::string name() const override { return "abi11"; }
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
      "abi11", [](const sf::CacheLayerSpec&) { return std::make_unique<Abi11Provider>(); });
}

const sf::PluginDescriptor descriptor{
    1, 1, "test-cache-abi11", "0.0.1", "a cache plugin built for ABI 1.1", register_plugin};

const sf::PluginDescriptor* entry() { return &descriptor; }

}  // namespace

BOOST_DLL_ALIAS(entry, slurm_factory_plugin)
