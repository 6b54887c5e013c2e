#include "artifact/artifact_index_html.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

#include "slurm_factory/errors.hpp"
#include "support/file_io.hpp"
#include "support/human_size.hpp"
#include "support/strings.hpp"

namespace sf {
namespace fs = std::filesystem;

namespace {

void write_atomically(const fs::path& dest, const std::string& text) {
  if (auto problem = write_file_atomically(dest, text); !problem.empty()) {
    throw PackagingError("cannot write the artifact index: " + problem, {{"file", dest.string()}},
                         "check that the folder given to --html is writable and has room");
  }
}

std::string read_template_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw PackagingError("template not found", {{"template", file.string()}},
                         "check the installation, or set SLURM_FACTORY_DATA_DIR to a folder "
                         "holding templates/");
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string row_id(const std::string& key) {
  std::string id = "a-";
  for (char c : key) id += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '-';
  return id;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string artifact_href(const std::string& base_url, const std::string& key) {
  static const char* hex = "0123456789ABCDEF";
  std::string path;
  for (char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      path += ch;
    } else {
      path += '%';
      path += hex[c >> 4];
      path += hex[c & 15];
    }
  }
  if (base_url.empty()) return path;
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + path;
}

nlohmann::json artifact_index_data(const ArtifactIndexPage& page,
                                   const std::vector<PublishedArtifact>& artifacts) {
  nlohmann::json rows = nlohmann::json::array();
  auto href = [&](const std::string& key) {
    return html_escape(artifact_href(page.base_url, key));
  };
  for (const auto& a : artifacts) {
    std::string gpu = join(a.gpu, ", ");
    rows.push_back({
        {"row_id", html_escape(row_id(a.artifact_key))},
        {"version", html_escape(a.slurm_version)},
        {"toolchain", html_escape(a.toolchain)},
        {"os_name", html_escape(a.os_name)},
        {"gpu", gpu.empty() ? "none" : html_escape(gpu)},
        {"arch", html_escape(a.arch)},
        {"size", html_escape(human_size(a.size))},
        {"bytes", std::to_string(a.size)},
        {"created", html_escape(a.created)},
        {"sha256", a.sha256.empty() ? "-" : html_escape(a.sha256)},
        {"file", html_escape(a.file)},
        {"href", href(a.artifact_key)},
        {"has_signature", !a.signature_key.empty()},
        {"signature_href", href(a.signature_key)},
        {"has_checksums", !a.checksums_key.empty()},
        {"checksums_href", href(a.checksums_key)},
        {"has_checksums_signature", !a.checksums_signature_key.empty()},
        {"checksums_signature_href", href(a.checksums_signature_key)},
        {"provenance_href", href(a.provenance_key)},
        {"signing_key_note", a.signing_key.empty() ? "" : html_escape(", key " + a.signing_key)},
    });
  }
  return {{"title", html_escape(page.title)},
          {"layer", html_escape(page.layer)},
          {"location", html_escape(page.location)},
          {"generated", html_escape(page.generated)},
          {"builder_version", html_escape(SF_VERSION)},
          {"count", std::to_string(artifacts.size())},
          {"count_noun", artifacts.size() == 1 ? "artifact" : "artifacts"},
          {"has_artifacts", !artifacts.empty()},
          {"artifacts", rows}};
}

fs::path write_artifact_index(const fs::path& dir, const ArtifactIndexPage& page,
                              const std::vector<PublishedArtifact>& artifacts,
                              const TemplateRenderer& renderer) {
  const std::string html =
      renderer.render(kArtifactIndexTemplate, artifact_index_data(page, artifacts));
  const std::string css = read_template_file(renderer.dir() / kArtifactIndexStyle);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw PackagingError("cannot create the folder for the artifact index: " + ec.message(),
                         {{"folder", dir.string()}}, "give --html a folder you can write to");
  }
  write_atomically(dir / "style.css", css);
  write_atomically(dir / "index.html", html);
  return dir / "index.html";
}

}  // namespace sf
