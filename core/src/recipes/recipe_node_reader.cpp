#include "recipes/recipe_node_reader.hpp"

#include <algorithm>
#include <regex>
#include <stdexcept>

#include "recipes/recipe_error.hpp"
#include "recipes/recipe_parser.hpp"
#include "support/strings.hpp"

namespace sf {

SourceLocation RecipeNodeReader::at(const YAML::Node& n) const {
  const auto m = n.Mark();
  if (m.is_null()) return SourceLocation{origin_, 0, 0};
  return SourceLocation{origin_, m.line + 1, m.column + 1};
}

void RecipeNodeReader::fail(const YAML::Node& n, const std::string& what,
                            std::string remediation) const {
  fail_at(at(n), what, remediation);
}

void RecipeNodeReader::check_keys(const YAML::Node& map, const std::set<std::string>& allowed,
                                  const std::string& where) const {
  if (!map.IsMap()) fail(map, where + " must be a mapping");
  std::set<std::string> seen;
  for (const auto& kv : map) {
    auto key = kv.first.as<std::string>();
    if (!seen.insert(key).second) fail(kv.first, "'" + key + "' is given twice in " + where);
    if (allowed.count(key) == 0) {
      std::string list = join(allowed, ", ");
      fail(kv.first, "unknown key '" + key + "' in " + where, "valid keys here: " + list);
    }
  }
}

std::string RecipeNodeReader::scalar(const YAML::Node& n, const std::string& what) const {
  if (!n.IsScalar()) fail(n, what + " must be a string");
  return n.as<std::string>();
}

std::vector<std::string> RecipeNodeReader::scalar_list(const YAML::Node& n,
                                                       const std::string& what) const {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.as<std::string>());
  } else if (n.IsSequence()) {
    for (const auto& item : n) out.push_back(scalar(item, what + " entry"));
  } else {
    fail(n, what + " must be a string or a list of strings");
  }
  return out;
}

// `value` when it is a valid `kind`; a ConfigurationError at n's line otherwise.
std::string RecipeNodeReader::checked(const YAML::Node& n, InputKind kind, const std::string& value,
                                      const std::string& what) const {
  if (const std::string p = input_problem(kind, value); !p.empty()) {
    fail(n, "bad " + what + " '" + printable(value) + "': " + p,
         "write " + what + " with " + describe(kind));
  }
  return value;
}

std::string RecipeNodeReader::sha256(const YAML::Node& n) const {
  std::string s = scalar(n, "sha256");
  if (!is_sha256_hex(s)) {
    fail(n, "bad sha256 '" + s + "': expected 64 lowercase hexadecimal characters",
         "copy the checksum from `sha256sum FILE` (or ../shared/facts/sources.yaml)");
  }
  return s;
}

VersionRange RecipeNodeReader::range(const YAML::Node& n, const std::string& what) const {
  try {
    return VersionRange::parse(scalar(n, what));
  } catch (const std::invalid_argument& e) {
    fail(n, "bad " + what + " range: " + e.what(),
         "ranges look like \">=23.11,<26.05\", \"24.11\", \"<=25.11\" or \"*\"");
  }
}

Condition RecipeNodeReader::condition(const YAML::Node& n) const {
  check_keys(
      n, {"slurm", "version", "feature", "not_feature", "family", "release", "arch", "system_has"},
      "a 'when' condition");
  Condition c;
  c.where = at(n);
  if (n["slurm"]) c.slurm = range(n["slurm"], "slurm");
  if (n["version"]) c.version = range(n["version"], "version");
  if (n["feature"]) c.feature = scalar_list(n["feature"], "feature");
  if (n["not_feature"]) c.not_feature = scalar_list(n["not_feature"], "not_feature");
  if (n["family"]) c.family = scalar_list(n["family"], "family");
  if (n["release"]) c.release = scalar_list(n["release"], "release");
  if (n["arch"]) c.arch = scalar_list(n["arch"], "arch");
  if (n["system_has"]) c.system_has = scalar_list(n["system_has"], "system_has");
  return c;
}

// Variables allowed in arguments and env values.
void RecipeNodeReader::check_variables(const YAML::Node& n, const std::string& text) const {
  static const std::set<std::string> kVars{"prefix",  "jobs",          "name",
                                           "version", "slurm_version", "arch",
                                           "family",  "release",       "multiarch"};
  size_t pos = 0;
  while ((pos = text.find("${", pos)) != std::string::npos) {
    size_t end = text.find('}', pos);
    if (end == std::string::npos) fail(n, "unterminated '${' in '" + text + "'");
    std::string var = text.substr(pos + 2, end - pos - 2);
    bool ok = kVars.count(var) != 0 || (var.starts_with("dep:") && var.size() > 4);
    if (!ok) {
      fail(n, "unknown variable '${" + var + "}' in '" + text + "'",
           "variables: ${prefix} ${jobs} ${name} ${version} ${slurm_version} ${arch} ${family} "
           "${release} ${multiarch} ${dep:NAME}");
    }
    pos = end + 1;
  }
  static const std::regex kZNow(R"((^|[\s,])-z[\s,]*now\b|-Wl,-z,now|-Wl,--now|\bBIND_NOW\b)");
  if (std::regex_search(text, kZNow)) {
    fail(n, "'" + text + "' asks for immediate binding (-z now), which breaks Slurm's plugin stack",
         "remove it; Slurm and its dependencies must link with lazy binding");
  }
}

std::vector<ConditionalString> RecipeNodeReader::conditional_strings(
    const YAML::Node& n, const std::string& what, const std::string& value_key) const {
  std::vector<ConditionalString> out;
  YAML::Node seq = n;
  if (n.IsScalar()) {
    ConditionalString cs{scalar(n, what), {}, at(n)};
    check_variables(n, cs.value);
    out.push_back(std::move(cs));
    return out;
  }
  if (!n.IsSequence()) fail(n, what + " must be a list");
  for (const auto& item : seq) {
    ConditionalString cs;
    cs.where = at(item);
    if (item.IsScalar()) {
      cs.value = item.as<std::string>();
    } else if (item.IsMap()) {
      check_keys(item, {value_key, "when"}, "a " + what + " entry");
      if (!item[value_key]) fail(item, "a " + what + " entry needs '" + value_key + "'");
      cs.value = scalar(item[value_key], value_key);
      if (item["when"]) cs.when = condition(item["when"]);
    } else {
      fail(item, what + " entries are strings or {" + value_key + ", when} mappings");
    }
    check_variables(item, cs.value);
    out.push_back(std::move(cs));
  }
  return out;
}

// `value` when it is a relative path of plain components (no "..", no leading '/'); a
// ConfigurationError at n's line otherwise.
std::string RecipeNodeReader::relative_path(const YAML::Node& n, const std::string& value,
                                            const std::string& what,
                                            const std::string& remediation) const {
  if (value.empty() || value.front() == '/') {
    fail(n, "bad " + what + " '" + printable(value) + "': it must be a relative path", remediation);
  }
  for (std::size_t start = 0; start <= value.size();) {
    const std::size_t slash = std::min(value.find('/', start), value.size());
    const std::string part = value.substr(start, slash - start);
    if (const std::string why = input_problem(InputKind::kPathComponent, part); !why.empty()) {
      fail(n,
           "bad " + what + " '" + printable(value) + "': component '" + printable(part) +
               "': " + why,
           remediation);
    }
    start = slash + 1;
  }
  return value;
}
}  // namespace sf
