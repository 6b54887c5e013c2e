#include "artifact/plan_view.hpp"

#include "slurm_factory/errors.hpp"

namespace sf {

std::vector<DlopenedLibrary> plan_dlopened_libraries(const Plan& plan) {
  std::vector<DlopenedLibrary> out;
  for (const auto& p : plan.packages) {
    if (!p.runtime) continue;
    for (const auto& so : p.runtime_dlopen) out.push_back({so, p.name});
  }
  return out;
}

void throw_unresolved_libraries(const ViewAssemblyReport& report, const std::string& toolchain,
                                const std::string& origin, const std::string& image,
                                const std::filesystem::path& export_log) {
  std::string list;
  for (const auto& u : report.unresolved) {
    list += (list.empty() ? "" : ", ") + u.soname + " (needed by " + u.needed_by + ")";
  }
  throw PackagingError(
      std::to_string(report.unresolved.size()) +
          " shared librar(ies) the view needs are in no package, not in the build image and "
          "not on the toolchain's system-library list: " +
          list,
      {{"stage", "assemble"},
       {"toolchain", toolchain},
       {"image", image},
       {"export log", export_log.string()}},
      "add the -dev package that provides them to the recipe's system_dependencies (and the "
      "release's dev_packages), or, when every host of " +
          toolchain + " has them, to the release's system_libraries (" + origin + ")");
}

nlohmann::json view_provenance(const ViewAssemblyReport& report, const DlopenNameReport& dlopen,
                               const std::map<std::string, std::string>& exported,
                               const std::string& image) {
  nlohmann::json view_json = report.to_json();
  view_json["dlopen_names"] = dlopen.to_json();
  for (auto& b : view_json["bundled"]) {
    auto it = exported.find(b["soname"].get<std::string>());
    b["from"] = image + ":" + (it != exported.end() ? it->second : std::string("?"));
  }
  return view_json;
}

}  // namespace sf
