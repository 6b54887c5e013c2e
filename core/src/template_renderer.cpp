#include "slurm_factory/core/template_renderer.hpp"

#include <algorithm>
#include <fstream>
#include <kainjow/mustache.hpp>
#include <set>
#include <sstream>

#include "slurm_factory/core/data_dir.hpp"
#include "slurm_factory/errors.hpp"

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

}  // namespace

TemplateRenderer::TemplateRenderer() : dir_(templates_dir()) {}
TemplateRenderer::TemplateRenderer(fs::path dir) : dir_(std::move(dir)) {}

std::string TemplateRenderer::render_text(std::string_view text, const nlohmann::json& data,
                                          const std::string& origin) {
  mus::mustache tmpl{std::string(text)};
  if (!tmpl.is_valid()) {
    throw PackagingError(
        "template syntax error: " + tmpl.error_message(), {{"template", origin}},
        "fix the Mustache tags in the template (sections must be closed in order)");
  }
  tmpl.set_custom_escape([](const std::string& s) { return s; });
  const mus::data d = to_mustache(data);
  StrictContext ctx{&d};
  std::string out = tmpl.render(ctx);
  if (!tmpl.is_valid()) {
    throw PackagingError("template render error: " + tmpl.error_message(), {{"template", origin}},
                         "fix the template or the data it is rendered with");
  }
  if (!ctx.missing().empty()) {
    std::string names;
    for (const auto& n : ctx.missing()) names += (names.empty() ? "" : ", ") + n;
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
