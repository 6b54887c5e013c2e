// Renders the Mustache templates in templates/ (modulefiles, systemd units, config templates, the
// install script) over nlohmann::json data, with kainjow mustache.
//
// Rendering is strict: every tag must name a key present in the data (a missing key is an error
// naming the template and the key, never an empty string). Every `{{value}}` is escaped for the
// language of the output, chosen by the template's file name (template_escape_for):
//   .sh       a shell word: single-quoted where needed ('it'\''s'); write VAR={{v}}, never "{{v}}"
//   .lua      the inside of a double-quoted Lua string ("{{v}}"): \ " ' escaped
//   .tcl      the inside of a double-quoted Tcl word ("{{v}}"): \ " $ [ ] { } escaped
//   .service  a systemd word: refused with whitespace, quotes, %, $, ; or a backslash
//   .sql      the inside of an SQL string ('{{v}}'): ' and \ doubled
//   .conf / .conf.template  as is
//   anything else (.html.mustache: its data is escaped by the caller)  verbatim
// In every mode but verbatim a value holding a control character (newline, CR, ESC, NUL...) is
// refused (it would end a comment or a directive), and so is an unescaped {{{tag}}} or {{&tag}}.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sf {

enum class TemplateEscape { kVerbatim, kShell, kLua, kTcl, kSystemd, kSql, kConfig };

// The escaping of a template named `name` ("modules/modulefile.lua" -> kLua).
TemplateEscape template_escape_for(std::string_view name);

// `value` escaped for `mode`; throws std::invalid_argument saying why a value cannot be written.
std::string escape_template_value(TemplateEscape mode, std::string_view value);

class TemplateRenderer {
 public:
  // Templates are looked up under `dir` (default: templates_dir()).
  TemplateRenderer();
  explicit TemplateRenderer(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }

  // Renders templates/<name> ("modules/modulefile.lua"). Throws PackagingError naming the file on a
  // missing template, a syntax error or a missing key.
  std::string render(const std::string& name, const nlohmann::json& data) const;

  // Renders `text`; `origin` names it in errors and chooses the escaping (template_escape_for).
  static std::string render_text(std::string_view text, const nlohmann::json& data,
                                 const std::string& origin);
  static std::string render_text(std::string_view text, const nlohmann::json& data,
                                 const std::string& origin, TemplateEscape mode);

  // Every template file under dir(), relative, sorted ("modules/modulefile.lua", ...).
  std::vector<std::string> list() const;

 private:
  std::filesystem::path dir_;
};

}  // namespace sf
