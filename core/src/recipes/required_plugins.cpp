#include "recipes/required_plugins.hpp"

#include "slurm_factory/errors.hpp"
#include "slurm_factory/feature.hpp"

namespace sf {

namespace {

bool present(const std::filesystem::path& view, const std::string& file) {
  std::error_code ec;
  return std::filesystem::is_regular_file(view / file, ec);
}

}  // namespace

std::vector<MissingPlugin> missing_required_plugins(const std::filesystem::path& view,
                                                    const std::vector<const Feature*>& features) {
  std::vector<MissingPlugin> missing;
  for (const Feature* f : features) {
    for (const auto& plugin : f->required_slurm_plugins()) {
      const std::string file = "lib/slurm/" + plugin;
      if (!present(view, file)) {
        missing.push_back(
            {f->name(), plugin, file,
             "the build image packages of feature " + f->name() + " (Feature::image_packages)"});
      }
    }
  }
  return missing;
}

std::vector<MissingPlugin> missing_expected_plugins(const std::filesystem::path& view,
                                                    const std::vector<PlannedPlugin>& expected) {
  std::vector<MissingPlugin> missing;
  for (const auto& e : expected) {
    if (!present(view, e.file)) missing.push_back({"", e.plugin, e.file, e.provider});
  }
  return missing;
}

void require_plugins(const std::filesystem::path& view, const std::vector<PlannedPlugin>& expected,
                     const std::vector<const Feature*>& features, const PluginCheckContext& ctx) {
  auto missing = missing_expected_plugins(view, expected);
  for (auto& m : missing_required_plugins(view, features)) missing.push_back(std::move(m));
  if (missing.empty()) return;
  std::string list;
  for (const auto& m : missing) {
    list += (list.empty() ? "" : "; ") + m.plugin +
            (m.feature.empty() ? std::string() : " (feature " + m.feature + ")") + ": view/" +
            m.file + " is missing, provided by " + m.provider;
  }
  throw BuildError(
      "Slurm was built without " + std::to_string(missing.size()) + " expected plugin" +
          (missing.size() == 1 ? "" : "s") + ": " + list,
      {{"stage", "assemble"},
       {"package", ctx.package},
       {"expected", "view/" + missing.front().file},
       {"log", ctx.log.empty() ? std::string("(Slurm came from the cache)") : ctx.log},
       {"entry", ctx.entry}},
      "configure skipped the plugin because it did not find the library's development files: "
      "install what provides it in the build image (the release's dev_packages, " +
          ctx.release_origin +
          ", and the recipe's system_dependencies) and read configure's output in the log; then "
          "rebuild with --no-cache (the cached Slurm entry lacks the plugin too)");
}

}  // namespace sf
