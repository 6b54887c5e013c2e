#include "slurm_factory/core/required_plugins.hpp"

#include "slurm_factory/feature.hpp"

namespace sf {

std::vector<MissingPlugin> missing_required_plugins(const std::filesystem::path& view,
                                                    const std::vector<const Feature*>& features) {
  std::vector<MissingPlugin> missing;
  for (const Feature* f : features) {
    for (const auto& plugin : f->required_slurm_plugins()) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(view / "lib" / "slurm" / plugin, ec)) {
        missing.push_back({f->name(), plugin});
      }
    }
  }
  return missing;
}

}  // namespace sf
