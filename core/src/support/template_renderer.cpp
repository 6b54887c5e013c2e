#include "support/template_renderer.hpp"

#include <algorithm>
#include <fstream>
#include <kainjow/mustache.hpp>
#include <set>
#include <sstream>

#include "slurm_factory/errors.hpp"
#include "slurm_factory/shell_quote.hpp"
#include "support/data_dir.hpp"
#include "support/input_validation.hpp"
#include "support/strings.hpp"

namespace sf {
namespace fs = std::filesystem;
namespace mus = kainjow::mustache;

namespace {

mus::data to_mustache(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      mus::data d{mus::data::type::object};
      for (const auto& [k, v] : j.items()) d.set(k, to_mustache(v));
      return d;
    }
    case nlohmann::json::value_t::array: {
      mus::data d{mus::data::type::list};
      for (const auto& v : j) d.push_back(to_mustache(v));
      return d;
    }
    case nlohmann::json::value_t::boolean:
      return mus::data{j.get<bool>()};
    case nlohmann::json::value_t::null:
      return mus::data{false};
    case nlohmann::json::value_t::string:
      return mus::data{j.get<std::string>()};
    default:
      return mus::data{j.dump()};
  }
}

// A context that remembers every name it could not resolve, so a typo in a template or a key the
// data forgot is an error rather than an empty string.
class StrictContext : public mus::context<std::string> {
 public:
  explicit StrictContext(const mus::data* data) : mus::context<std::string>(data) {}
  const mus::data* get(const std::string& name) const override {
    const mus::data* d = mus::context<std::string>::get(name);
    if (d == nullptr) missing_.insert(name);
    return d;
  }
  const std::set<std::string>& missing() const { return missing_; }

 private:
  mutable std::set<std::string> missing_;
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string backslash_escape(std::string_view value, std::string_view special) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (special.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

const char* mode_name(TemplateEscape mode) {
  switch (mode) {
    case TemplateEscape::kVerbatim:
      return "verbatim";
    case TemplateEscape::kShell:
      return "shell";
    case TemplateEscape::kLua:
      return "Lua";
    case TemplateEscape::kTcl:
      return "Tcl";
    case TemplateEscape::kSystemd:
      return "systemd unit";
    case TemplateEscape::kSql:
      return "SQL";
    case TemplateEscape::kConfig:
      return "config";
  }
  return "verbatim";
}

}  // namespace

TemplateEscape template_escape_for(std::string_view name) {
  if (ends_with(name, ".sh")) return TemplateEscape::kShell;
  if (ends_with(name, ".lua")) return TemplateEscape::kLua;
  if (ends_with(name, ".tcl")) return TemplateEscape::kTcl;
  if (ends_with(name, ".service")) return TemplateEscape::kSystemd;
  if (ends_with(name, ".sql")) return TemplateEscape::kSql;
  if (ends_with(name, ".conf") || ends_with(name, ".conf.template")) return TemplateEscape::kConfig;
  return TemplateEscape::kVerbatim;
}

std::string escape_template_value(TemplateEscape mode, std::string_view value) {
  if (mode == TemplateEscape::kVerbatim) return std::string(value);
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      throw std::invalid_argument("'" + printable(value) +
                                  "' holds a control character, which no " + mode_name(mode) +
                                  " file can carry safely");
    }
  }
  switch (mode) {
    case TemplateEscape::kShell:
      return shell_quote(value);
    case TemplateEscape::kLua:
      return backslash_escape(value, "\\\"'");
    case TemplateEscape::kTcl:
      return backslash_escape(value, "\\\"$[]{}");
    case TemplateEscape::kSystemd:
      for (char c : value) {
        if (std::string_view(" \"'%$;\\").find(c) != std::string_view::npos) {
          throw std::invalid_argument("'" + printable(value) + "' holds '" + std::string(1, c) +
                                      "', which a systemd unit would read as a separator, "
                                      "specifier or quote");
        }
      }
      return std::string(value);
    case TemplateEscape::kSql: {
      std::string out;
      for (char c : value) {
        out += c;
        if (c == '\'' || c == '\\') out += c;
      }
      return out;
    }
    case TemplateEscape::kConfig:
    case TemplateEscape::kVerbatim:
      break;
  }
  return std::string(value);
}

TemplateRenderer::TemplateRenderer() : dir_(templates_dir()) {}
TemplateRenderer::TemplateRenderer(fs::path dir) : dir_(std::move(dir)) {}

std::string TemplateRenderer::render_text(std::string_view text, const nlohmann::json& data,
                                          const std::string& origin) {
  return render_text(text, data, origin, template_escape_for(origin));
}

std::string TemplateRenderer::render_text(std::string_view text, const nlohmann::json& data,
                                          const std::string& origin, TemplateEscape mode) {
  if (mode != TemplateEscape::kVerbatim &&
      (text.find("{{{") != std::string_view::npos || text.find("{{&") != std::string_view::npos)) {
    throw PackagingError(std::string("a ") + mode_name(mode) +
                             " template must not use an unescaped tag ({{{name}}} or {{&name}})",
                         {{"template", origin}},
                         "write {{name}}: values are escaped for the file's language");
  }
  mus::mustache tmpl{std::string(text)};
  if (!tmpl.is_valid()) {
    throw PackagingError(
        "template syntax error: " + tmpl.error_message(), {{"template", origin}},
        "fix the Mustache tags in the template (sections must be closed in order)");
  }
  // The first value that cannot be written; the escape never throws through the renderer.
  std::string refused;
  tmpl.set_custom_escape([mode, &refused](const std::string& s) {
    try {
      return escape_template_value(mode, s);
    } catch (const std::invalid_argument& e) {
      if (refused.empty()) refused = e.what();
      return std::string();
    }
  });
  const mus::data d = to_mustache(data);
  StrictContext ctx{&d};
  std::string out = tmpl.render(ctx);
  if (!refused.empty()) {
    throw PackagingError(
        std::string("cannot write a value into a ") + mode_name(mode) + " file: " + refused,
        {{"template", origin}},
        "fix the value (a Slurm version, toolchain, path...) where it was given; "
        "the entry points refuse such values");
  }
  if (!tmpl.is_valid()) {
    throw PackagingError("template render error: " + tmpl.error_message(), {{"template", origin}},
                         "fix the template or the data it is rendered with");
  }
  if (!ctx.missing().empty()) {
    std::string names = join(ctx.missing(), ", ");
    throw PackagingError("template names keys the data does not have: " + names,
                         {{"template", origin}},
                         "add the keys to the template data (docs/artifact.md lists them) or fix "
                         "the tag names in the template");
  }
  return out;
}

std::string TemplateRenderer::render(const std::string& name, const nlohmann::json& data) const {
  const fs::path file = dir_ / name;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw PackagingError("template not found", {{"template", file.string()}},
                         "check the template name, or set SLURM_FACTORY_DATA_DIR to a folder "
                         "holding templates/");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return render_text(ss.str(), data, file.string());
}

std::vector<std::string> TemplateRenderer::list() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file()) out.push_back(it->path().lexically_relative(dir_).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sf
