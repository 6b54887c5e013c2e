// Small YAML helpers shared by the config code: where a node came from (file:line:col or a fixed
// label), key-path building ("cache.layers[1].type"), YAML -> JSON for free-form settings, and the
// did-you-mean suggestion for unknown keys.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sf::config {

// One layer of configuration: a file, the embedded default, an environment variable, a CLI flag.
struct LayerSource {
  std::string file;       // path of the file, or a description ("environment variable X")
  std::string label;      // fixed origin for every value ("default", "env X", "--jobs"); "" = marks
  bool has_marks = true;  // whether YAML marks mean anything (false for env / CLI values)
  std::string suffix;     // appended to every origin, e.g. " (profile ci)"

  static LayerSource from_file(std::string path);
  static LayerSource fixed(std::string label, std::string file, bool has_marks = false);

  // Where a node is, for errors: "file:line:col", or the file/label alone when there are no marks.
  std::string where(const YAML::Mark& mark) const;
  // The origin recorded for a value: the label, or "file:line:col"; plus the suffix.
  std::string origin(const YAML::Node& node) const;
};

// "file:line:col" with 1-based line and column; "file" alone for a null mark.
std::string location(const std::string& file, const YAML::Mark& mark);

// Bounds on a YAML text before it is loaded: a config file, a recipe or a releases file is a few
// KiB; aliases share nodes in yaml-cpp but every walk of the tree (validation, merging, JSON)
// expands them, so a 441-byte "billion laughs" document would cost minutes and gigabytes.
inline constexpr std::size_t kMaxYamlBytes = std::size_t{4} << 20;  // 4 MiB
inline constexpr std::size_t kMaxYamlNodes = 200000;  // nodes with every alias expanded

// YAML::Load(text) after checking that the text is at most `max_bytes` and that its documents,
// with every alias (and merge key) expanded, hold at most `max_nodes` nodes. A text over a bound
// throws ConfigurationError "<where>: ..." (`where` formats the mark of the offending alias or
// the start of the text); YAML syntax errors throw YAML::ParserException as YAML::Load does.
YAML::Node load_bounded(std::string_view text,
                        const std::function<std::string(const YAML::Mark&)>& where,
                        std::size_t max_bytes = kMaxYamlBytes,
                        std::size_t max_nodes = kMaxYamlNodes);
// The same, with "file:line:col" locations.
YAML::Node load_bounded(std::string_view text, const std::string& file);

std::string join_key(const std::string& path, std::string_view key);
std::string join_index(const std::string& path, std::size_t index);

// A YAML subtree as JSON. Quoted scalars stay strings; plain scalars become null, bool, integer,
// number or string as YAML 1.2 core schema reads them.
nlohmann::json yaml_to_json(const YAML::Node& node);

// The closest candidate to `word` (edit distance), or "" when none is close enough.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

// A key that names a secret ("password", "secret_access_key", "token", "passphrase", ...), unless
// it names where the secret is kept (ends in _env or _file).
bool is_secret_key(std::string_view key);
// A URL with a password in its user-info part ("https://user:pw@host/").
bool url_has_password(std::string_view url);
// The URL with its user-info password replaced by "***".
std::string redact_url(const std::string& url);
// Text that contains private key material ("-----BEGIN ... PRIVATE KEY").
bool looks_like_private_key(std::string_view text);

}  // namespace sf::config
