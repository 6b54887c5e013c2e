#include "pipeline/cache_states.hpp"

#include "build/build_executor.hpp"
#include "cache/cache_chain.hpp"
#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {

std::map<std::string, nlohmann::json> cache_states(App& app, const BuildRequest& request,
                                                   const Plan& plan) {
  std::map<std::string, nlohmann::json> out;
  std::vector<CacheLayerSpec> layers = app.config().cache_layers;
  if (request.local_cache) apply_local_cache_override(layers, request.local_cache->string());
  for (const auto& l : layers) {
    std::unique_ptr<CacheProvider> provider;
    try {
      provider = app.cache_provider(l);
    } catch (const SlurmFactoryError&) {
      provider.reset();
    }
    for (const auto& p : plan.packages) {
      if (p.origin != Origin::kSource) continue;
      std::string state = "unknown";
      if (provider) {
        auto has = provider->has(entry_key_for(p).manifest());
        state = has ? (*has ? "hit" : "miss") : "error";
      }
      out[p.name][l.name] = state;
    }
  }
  return out;
}

}  // namespace sf
