#include "support/data_dir.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

#include "slurm_factory/errors.hpp"

namespace sf {
namespace fs = std::filesystem;

namespace {

bool has_templates(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "templates", ec);
}

}  // namespace

fs::path data_dir() {
  std::vector<fs::path> tried;
  if (const char* env = std::getenv("SLURM_FACTORY_DATA_DIR"); env != nullptr && *env != '\0') {
    fs::path p(env);
    if (has_templates(p)) return p;
    tried.push_back(p);
  }
  boost::dll::fs::error_code bec;
  const auto lib = boost::dll::this_line_location(bec);
  if (!bec) {
    fs::path p = fs::path(lib.string()).parent_path().parent_path() / SF_DATA_SUBDIR;
    if (has_templates(p)) return p.lexically_normal();
    tried.push_back(p.lexically_normal());
  }
  fs::path src(SF_SOURCE_DIR);
  if (has_templates(src)) return src;
  tried.push_back(src);

  std::string where;
  for (const auto& t : tried) where += (where.empty() ? "" : ", ") + t.string();
  throw ConfigurationError("cannot find the slurm-factory data directory (templates/)",
                           {{"looked in", where}},
                           "set SLURM_FACTORY_DATA_DIR to the folder holding templates/ (an "
                           "installed tree has it at <prefix>/share/slurm-factory)");
}

fs::path templates_dir() { return data_dir() / "templates"; }

}  // namespace sf
