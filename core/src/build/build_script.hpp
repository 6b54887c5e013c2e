// What runs in a build container: the script of one package (render_build_script, declared in
// build_executor.hpp for its callers), made of its variables and the build system's templates
// (templates/build/common.sh + <system>.sh), and the files the build writes for the container.
#pragma once

#include <filesystem>
#include <string>

#include "recipes/planner.hpp"

namespace sf {

// The text of the templates the script of `spec` is made of, common.sh then <system>.sh (what the
// key of an incremental build tree covers, build_tree_store.hpp).
std::string build_script_templates(const std::filesystem::path& templates, const PackageSpec& spec);

// Writes `text` to `p` (its folder created); BuildError when it cannot.
void write_text(const std::filesystem::path& p, const std::string& text);

}  // namespace sf
