// Renders the Mustache templates in templates/ (modulefiles, systemd units, config templates, the
// install script) over nlohmann::json data, with kainjow mustache.
//
// Rendering is strict and verbatim: every tag must name a key present in the data (a missing key is
// an error naming the template and the key, never an empty string), and values are inserted as they
// are (no HTML escaping: the outputs are shell, Lua, Tcl and config files).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sf {

class TemplateRenderer {
 public:
  // Templates are looked up under `dir` (default: templates_dir()).
  TemplateRenderer();
  explicit TemplateRenderer(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }

  // Renders templates/<name> ("modules/modulefile.lua"). Throws PackagingError naming the file on a
  // missing template, a syntax error or a missing key.
  std::string render(const std::string& name, const nlohmann::json& data) const;

  // Renders `text`; `origin` names it in errors.
  static std::string render_text(std::string_view text, const nlohmann::json& data,
                                 const std::string& origin);

  // Every template file under dir(), relative, sorted ("modules/modulefile.lua", ...).
  std::vector<std::string> list() const;

 private:
  std::filesystem::path dir_;
};

}  // namespace sf
