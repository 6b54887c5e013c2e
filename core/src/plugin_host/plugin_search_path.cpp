// Where plugins are looked for when the config names them: $SLURM_FACTORY_PLUGIN_PATH, then the
// plugin directory beside the running binary (<bin>/../lib/slurm-factory/plugins), then the one
// beside the core library. The build tree has the same relative layout as the install tree, so a
// binary run from either finds its own plugins.
#include <boost/dll/runtime_symbol_info.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "plugin_host/plugin_host.hpp"

namespace sf {
namespace {

namespace fs = std::filesystem;

void add_unique(std::vector<fs::path>& paths, const fs::path& p) {
  if (p.empty()) return;
  fs::path normal = p.lexically_normal();
  if (normal.has_filename() == false && normal.has_parent_path()) normal = normal.parent_path();
  for (const auto& q : paths) {
    if (q == normal) return;
  }
  paths.push_back(normal);
}

// The number of path components in a relative install subdirectory ("bin" -> 1).
int depth_of(std::string_view subdir) {
  int n = 0;
  for (const auto& part : fs::path(subdir)) {
    if (!part.empty() && part != ".") ++n;
  }
  return n;
}

}  // namespace

std::vector<fs::path> env_plugin_search_paths() {
  std::vector<fs::path> paths;
  if (const char* env = std::getenv("SLURM_FACTORY_PLUGIN_PATH"); env != nullptr) {
    std::string_view rest(env);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      add_unique(paths, fs::path(std::string(rest.substr(0, colon))));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  return paths;
}

std::vector<fs::path> builtin_plugin_search_paths() {
  std::vector<fs::path> paths;
  boost::dll::fs::error_code ec;
  const auto exe = boost::dll::program_location(ec);  // /proc/self/exe
  if (!ec) {
    fs::path prefix = fs::path(exe.string()).parent_path();
    for (int i = 0; i < depth_of(SF_BIN_SUBDIR); ++i) prefix = prefix.parent_path();
    add_unique(paths, prefix / SF_PLUGIN_SUBDIR);
  }
  // The core library sits in <prefix>/lib; its plugins in <prefix>/lib/slurm-factory/plugins. This
  // covers programs that link the core from elsewhere (tests, embedders).
  const auto self = boost::dll::this_line_location(ec);
  if (!ec) {
    fs::path libdir = fs::path(self.string()).parent_path();
    fs::path prefix = libdir;
    const fs::path plugin_subdir(SF_PLUGIN_SUBDIR);
    // SF_PLUGIN_SUBDIR is "<libdir>/slurm-factory/plugins": strip the libdir part from the library.
    for (int i = 0; i < depth_of(plugin_subdir.parent_path().parent_path().string()); ++i) {
      prefix = prefix.parent_path();
    }
    add_unique(paths, prefix / plugin_subdir);
  }
  return paths;
}

std::vector<fs::path> default_plugin_search_paths(const std::vector<fs::path>& configured) {
  std::vector<fs::path> paths;
  for (const auto& p : env_plugin_search_paths()) add_unique(paths, p);
  for (const auto& p : configured) add_unique(paths, p);
  for (const auto& p : builtin_plugin_search_paths()) add_unique(paths, p);
  return paths;
}

}  // namespace sf
