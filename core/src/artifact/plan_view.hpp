// The view of a plan's artifact, around assemble_view (view_assembler.hpp): the libraries the
// plan's recipes dlopen, the error for libraries no package provides, and the view's part of
// provenance.json.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "artifact/dlopen_names.hpp"
#include "artifact/view_assembler.hpp"
#include "recipes/planner.hpp"

namespace sf {

// The libraries the runtime packages of `plan` dlopen at run time (recipe runtime_dlopen).
std::vector<DlopenedLibrary> plan_dlopened_libraries(const Plan& plan);

// PackagingError (stage assemble) for a view whose `report` still has unresolved libraries after
// the build image's were exported: they are in no package, not in `image` and not on the
// system-library list of the toolchain `toolchain` (release file `origin`); `export_log` is the
// log of that export.
[[noreturn]] void throw_unresolved_libraries(const ViewAssemblyReport& report,
                                             const std::string& toolchain,
                                             const std::string& origin, const std::string& image,
                                             const std::filesystem::path& export_log);

// provenance.json "view": the assembly report, its dlopen names, and for each bundled library
// where it came from ("<image>:<path in the image>", from `exported`: soname -> path; "?" when
// unknown).
nlohmann::json view_provenance(const ViewAssemblyReport& report, const DlopenNameReport& dlopen,
                               const std::map<std::string, std::string>& exported,
                               const std::string& image);

}  // namespace sf
