// `cache index --html DIR`: a static page for people listing the Slurm artifacts published to a
// layer (version, toolchain, GPU, arch, size, date, sha256, links to the artifact, its signatures,
// SHA256SUMS and provenance). Rendered from templates/index/artifacts.html.mustache with the
// project's Mustache renderer; every value is HTML-escaped here (the renderer inserts verbatim).
// The page needs no script and no network: index.html + style.css.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "artifact/published_artifacts.hpp"
#include "support/template_renderer.hpp"

namespace sf {

inline constexpr const char* kArtifactIndexTemplate = "index/artifacts.html.mustache";
inline constexpr const char* kArtifactIndexStyle = "index/style.css";

struct ArtifactIndexPage {
  std::string title;      // "Slurm builds"
  std::string layer;      // the layer's name
  std::string location;   // where it is, for people (redacted URL or directory)
  std::string base_url;   // links are <base_url>/<key>; "" = the key itself, relative to the page
  std::string generated;  // UTC time the page was made
};

// & < > " ' as entities.
std::string html_escape(std::string_view text);

// The link to `key`: percent-encoded (RFC 3986 unreserved characters and '/' stay), under
// `base_url` when it is given (a trailing '/' is optional).
std::string artifact_href(const std::string& base_url, const std::string& key);

// The template data, every string already HTML-escaped.
nlohmann::json artifact_index_data(const ArtifactIndexPage& page,
                                   const std::vector<PublishedArtifact>& artifacts);

// Writes <dir>/index.html and <dir>/style.css (atomically: temp + rename), creating dir. Returns
// the path of index.html. Throws PackagingError naming the file it could not write.
std::filesystem::path write_artifact_index(const std::filesystem::path& dir,
                                           const ArtifactIndexPage& page,
                                           const std::vector<PublishedArtifact>& artifacts,
                                           const TemplateRenderer& renderer);

}  // namespace sf
