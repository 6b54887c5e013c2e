#include "config/config_schema.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <regex>

#include "slurm_factory/errors.hpp"
#include "support/strings.hpp"

namespace sf::config {

const SchemaNode* SchemaNode::field(const std::string& name) const {
  for (const auto& f : fields) {
    if (f.name == name) return f.node.get();
  }
  return nullptr;
}

std::vector<std::string> SchemaNode::field_names() const {
  std::vector<std::string> names;
  names.reserve(fields.size());
  for (const auto& f : fields) names.push_back(f.name);
  return names;
}

namespace {

SchemaPtr scalar(ValueType type, bool required = false, double min = 0) {
  auto n = std::make_shared<SchemaNode>();
  n->type = type;
  n->required = required;
  n->min = min;
  return n;
}

SchemaPtr sequence(SchemaPtr element) {
  auto n = std::make_shared<SchemaNode>();
  n->type = ValueType::kSequence;
  n->element = std::move(element);
  return n;
}

SchemaPtr named(SchemaPtr element) {
  auto n = std::make_shared<SchemaNode>();
  n->type = ValueType::kNamedMap;
  n->element = std::move(element);
  return n;
}

SchemaPtr map(std::vector<SchemaField> fields, bool open = false, bool required = false) {
  auto n = std::make_shared<SchemaNode>();
  n->type = ValueType::kMap;
  n->fields = std::move(fields);
  n->open = open;
  n->required = required;
  return n;
}

SchemaPtr required(SchemaPtr node) {
  auto n = std::make_shared<SchemaNode>(*node);
  n->required = true;
  return n;
}

// One entry of `pipelines:` (docs/pipelines.md). The types are checked here; the values (Slurm
// version syntax, GPU flavours, publish policy, an empty matrix) by parse_pipelines().
SchemaPtr pipeline_schema() {
  return map({
      {"matrix", map(
                     {
                         {"slurm_versions", required(sequence(scalar(ValueType::kString)))},
                         {"toolchains", required(sequence(scalar(ValueType::kString)))},
                         {"gpu", sequence(scalar(ValueType::kAny))},
                         {"arch", scalar(ValueType::kString)},
                     },
                     /*open=*/false, /*required=*/true)},
      {"exclude", sequence(map({
                      {"slurm_version", scalar(ValueType::kString)},
                      {"toolchain", scalar(ValueType::kString)},
                      {"gpu", scalar(ValueType::kAny)},
                  }))},
      {"packagers", sequence(scalar(ValueType::kString))},
      {"publish", scalar(ValueType::kString)},
      {"backend", scalar(ValueType::kString)},
      {"profile", scalar(ValueType::kString)},
      {"parallel", scalar(ValueType::kInt, false, 1)},
      {"keep_going", scalar(ValueType::kBool)},
      {"verify", scalar(ValueType::kBool)},
      {"output", scalar(ValueType::kPath)},
  });
}

std::vector<SchemaField> settings_fields() {
  const auto cache_layer = map({
      {"name", scalar(ValueType::kString, true)},
      {"type", scalar(ValueType::kString, true)},
      {"url", scalar(ValueType::kUrl, true)},
      {"writable", scalar(ValueType::kBool)},
      {"settings", scalar(ValueType::kFree)},
  });
  return {
      {"cache_dir", scalar(ValueType::kPath)},
      {"plugins", map({
                      {"search_paths", sequence(scalar(ValueType::kPath))},
                      {"load", sequence(scalar(ValueType::kString))},
                  })},
      {"backend", scalar(ValueType::kString)},
      {"backends", named(scalar(ValueType::kFree))},
      {"cache", map({{"layers", sequence(cache_layer)}})},
      {"signing", map({
                      {"key_id", scalar(ValueType::kString)},
                      {"keyring", scalar(ValueType::kPath)},
                      {"trusted_fingerprints", sequence(scalar(ValueType::kFingerprint))},
                      {"private_key_file", scalar(ValueType::kPath)},
                      {"private_key_env", scalar(ValueType::kEnvName)},
                      {"passphrase_file", scalar(ValueType::kPath)},
                      {"passphrase_env", scalar(ValueType::kEnvName)},
                      {"require_signed", scalar(ValueType::kBool)},
                      {"allow_unsigned", scalar(ValueType::kBool)},
                  })},
      {"build", map({
                    {"jobs", scalar(ValueType::kInt, false, 0)},
                    {"cpus", scalar(ValueType::kNumber, false, 0)},
                    {"memory", scalar(ValueType::kSize)},
                    {"shm", scalar(ValueType::kSize)},
                    {"pids", scalar(ValueType::kInt, false, 0)},
                    {"network", scalar(ValueType::kBool)},
                    {"ccache", scalar(ValueType::kBool)},
                    {"ccache_max_size", scalar(ValueType::kSize)},
                    {"incremental", scalar(ValueType::kBool)},
                })},
      // `family` or `based_on` is required; the toolchain catalog checks that (and the other keys).
      {"toolchains",
       named(map({{"family", scalar(ValueType::kString)}, {"based_on", scalar(ValueType::kString)}},
                 /*open=*/true))},
      {"debian_mirror", scalar(ValueType::kUrl)},
      {"pipelines", named(pipeline_schema())},
  };
}

std::string kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    default:
      return "nothing";
  }
}

[[noreturn]] void fail(const std::string& message, const std::string& key_path,
                       const YAML::Mark& mark, const LayerSource& source,
                       const std::string& remediation) {
  const std::string where = source.where(mark);
  throw ConfigurationError(where + ": " + message, {{"file", where}, {"key", key_path}},
                           remediation);
}

std::string secret_refusal(const std::string& key) {
  std::string base = key;
  for (const char* suffix : {"_value", "_literal"}) {
    const std::string s(suffix);
    if (base.size() > s.size() && base.compare(base.size() - s.size(), s.size(), s) == 0) {
      base.resize(base.size() - s.size());
    }
  }
  return "a config file is readable by others and shows up in 'config show', logs and backups, so "
         "secrets are never written in it: name an environment variable that holds it ('" +
         base + "_env: MY_VARIABLE') or a file only you can read ('" + base +
         "_file: /path/to/it')";
}

const std::regex& env_name_re() {
  static const std::regex re("^[A-Za-z_][A-Za-z0-9_]*$");
  return re;
}
const std::regex& size_re() {
  static const std::regex re(R"(^[0-9]+(\.[0-9]+)?\s*([kKmMgGtT]([iI]?[bB])?|[bB])?$)");
  return re;
}
const std::regex& url_re() {
  static const std::regex re(R"(^[A-Za-z][A-Za-z0-9+.-]*://.*$)");
  return re;
}

bool parse_number(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(value);
}

bool parse_int(const std::string& text, long long& value) {
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && p == end;
}

void check_free(const YAML::Node& node, const std::string& key_path, const LayerSource& source) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      const std::string path = join_key(key_path, key);
      if (is_secret_key(key) && !kv.second.IsNull()) {
        fail("'" + key + "' holds a secret written into the config", path, kv.first.Mark(), source,
             secret_refusal(key));
      }
      check_free(kv.second, path, source);
    }
  } else if (node.IsSequence()) {
    std::size_t i = 0;
    for (const auto& item : node) check_free(item, join_index(key_path, i++), source);
  } else if (node.IsScalar()) {
    if (looks_like_private_key(node.Scalar())) {
      fail("private key material written into the config", key_path, node.Mark(), source,
           secret_refusal("private_key"));
    }
    if (url_has_password(node.Scalar())) {
      fail("a URL with a password in it", key_path, node.Mark(), source,
           "remove the password from the URL and give it through the provider's *_env or *_file "
           "setting (a URL is printed in logs and error messages)");
    }
  }
}

void check_scalar(const YAML::Node& node, const SchemaNode& schema, const std::string& key_path,
                  const LayerSource& source) {
  if (!node.IsScalar()) {
    fail(key_path + " must be " + describe(schema) + ", not " + kind_of(node), key_path,
         node.Mark(), source, "write " + key_path + " as " + describe(schema));
  }
  const std::string& v = node.Scalar();
  auto bad = [&](const std::string& hint) {
    fail(key_path + " must be " + describe(schema) + ", got '" + v + "'", key_path, node.Mark(),
         source, hint);
  };
  if (looks_like_private_key(v)) {
    fail("private key material written into the config", key_path, node.Mark(), source,
         secret_refusal("private_key"));
  }
  switch (schema.type) {
    case ValueType::kString:
    case ValueType::kPath:
      break;
    case ValueType::kUrl:
      if (!v.empty() && !std::regex_match(v, url_re())) {
        bad("give a full URL with its scheme, e.g. https://host/path or file:///path");
      }
      if (url_has_password(v)) {
        fail("a URL with a password in it", key_path, node.Mark(), source,
             "remove the password from the URL and give it through an *_env or *_file setting "
             "(a URL is printed in logs and error messages)");
      }
      break;
    case ValueType::kBool: {
      bool b = false;
      if (!YAML::convert<bool>::decode(node, b)) bad("write true or false");
      break;
    }
    case ValueType::kInt: {
      long long i = 0;
      if (!parse_int(v, i) || static_cast<double>(i) < schema.min) {
        bad("write a whole number, e.g. " + std::to_string(static_cast<long long>(schema.min) + 4));
      }
      break;
    }
    case ValueType::kNumber: {
      double d = 0;
      if (!parse_number(v, d) || d < schema.min) bad("write a number, e.g. 2 or 1.5");
      break;
    }
    case ValueType::kSize:
      if (!std::regex_match(v, size_re())) bad("write a size such as 512m, 8g or 1073741824");
      break;
    case ValueType::kEnvName:
      if (!v.empty() && !std::regex_match(v, env_name_re())) {
        fail(key_path +
                 " must be the NAME of an environment variable (letters, digits, _), got a "
                 "value that is not a name: a secret is never written in the config itself",
             key_path, node.Mark(), source,
             "put the secret in an environment variable, e.g. export "
             "SLURM_FACTORY_GPG_PASSPHRASE=..., "
             "and write '" +
                 key_path.substr(key_path.rfind('.') + 1) + ": SLURM_FACTORY_GPG_PASSPHRASE'");
      }
      break;
    case ValueType::kFingerprint: {
      std::string hex;
      for (char c : v) {
        if (c != ' ') hex += c;
      }
      const bool ok =
          hex.size() == 40 && hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
      if (!ok) bad("give the full 40-hex-digit fingerprint (gpg --fingerprint KEYID)");
      break;
    }
    default:
      break;
  }
}

void validate_map(const YAML::Node& node, const SchemaNode& schema, const std::string& key_path,
                  const LayerSource& source) {
  if (!node.IsMap()) {
    fail((key_path.empty() ? std::string("the config") : key_path) + " must be a mapping, not " +
             kind_of(node),
         key_path, node.Mark(), source, "write 'key: value' lines under it");
  }
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      fail("a key must be a plain word", key_path, kv.first.Mark(), source,
           "write 'key: value' lines");
    }
    const std::string key = kv.first.Scalar();
    const std::string path = join_key(key_path, key);
    const SchemaNode* child = schema.field(key);
    if (child == nullptr) {
      if (schema.open) continue;
      if (is_secret_key(key)) {
        fail("'" + key + "' holds a secret written into the config", path, kv.first.Mark(), source,
             secret_refusal(key));
      }
      std::string hint;
      const std::string guess = did_you_mean(key, schema.field_names());
      if (!guess.empty()) hint = "did you mean '" + guess + "'? ";
      std::string valid = join(schema.field_names(), ", ");
      fail("unknown key '" + key + "'" + (key_path.empty() ? "" : " in " + key_path), path,
           kv.first.Mark(), source, hint + "valid keys here: " + valid + " (see docs/config.md)");
    }
    validate(kv.second, *child, path, source);
  }
  for (const auto& f : schema.fields) {
    if (!f.node->required) continue;
    const YAML::Node v = node[f.name];
    if (!v || v.IsNull() || (v.IsScalar() && v.Scalar().empty())) {
      const std::string path = join_key(key_path, f.name);
      fail("missing required key '" + f.name + "' in " + key_path, path, node.Mark(), source,
           "add '" + f.name + ": ...' (" + describe(*f.node) + ") to " + key_path);
    }
  }
}

}  // namespace

const SchemaNode& root_schema() {
  static const SchemaPtr root = [] {
    auto fields = settings_fields();
    fields.push_back({"profiles", named(std::make_shared<SchemaNode>(profile_schema()))});
    return map(std::move(fields));
  }();
  return *root;
}

const SchemaNode& profile_schema() {
  static const SchemaPtr profile = map(settings_fields());
  return *profile;
}

const SchemaNode* schema_at(const std::string& key_path) {
  const SchemaNode* node = &root_schema();
  std::size_t pos = 0;
  while (pos < key_path.size() && node != nullptr) {
    if (key_path[pos] == '[') {
      const auto close = key_path.find(']', pos);
      if (close == std::string::npos || node->type != ValueType::kSequence) return nullptr;
      node = node->element.get();
      pos = close + 1;
      if (pos < key_path.size() && key_path[pos] == '.') ++pos;
      continue;
    }
    const auto end = key_path.find_first_of(".[", pos);
    const std::string word = key_path.substr(pos, end == std::string::npos ? end : end - pos);
    if (node->type == ValueType::kMap) {
      node = node->field(word);
    } else if (node->type == ValueType::kNamedMap) {
      node = node->element.get();
    } else {
      return nullptr;
    }
    pos = end == std::string::npos ? key_path.size() : end;
    if (pos < key_path.size() && key_path[pos] == '.') ++pos;
  }
  return node;
}

void validate(const YAML::Node& node, const SchemaNode& schema, const std::string& key_path,
              const LayerSource& source) {
  if (!node || node.IsNull()) return;
  switch (schema.type) {
    case ValueType::kMap:
      validate_map(node, schema, key_path, source);
      return;
    case ValueType::kNamedMap:
      if (!node.IsMap()) {
        fail(key_path + " must be a mapping of names, not " + kind_of(node), key_path, node.Mark(),
             source, "write 'NAME:' entries under " + key_path);
      }
      for (const auto& kv : node) {
        validate(kv.second, *schema.element, join_key(key_path, kv.first.Scalar()), source);
      }
      return;
    case ValueType::kSequence: {
      if (!node.IsSequence()) {
        fail(key_path + " must be a list, not " + kind_of(node), key_path, node.Mark(), source,
             "write it as [a, b] or as '- item' lines");
      }
      std::size_t i = 0;
      for (const auto& item : node) {
        const std::string path = join_index(key_path, i++);
        if (!item || item.IsNull()) {
          fail("empty list item in " + key_path, path, item.Mark(), source,
               "remove the empty item");
        }
        validate(item, *schema.element, path, source);
      }
      return;
    }
    case ValueType::kFree:
      if (!node.IsMap()) {
        fail(key_path + " must be a mapping, not " + kind_of(node), key_path, node.Mark(), source,
             "write 'key: value' lines under it");
      }
      check_free(node, key_path, source);
      return;
    case ValueType::kAny:
      check_free(node, key_path, source);
      return;
    default:
      check_scalar(node, schema, key_path, source);
  }
}

std::string describe(const SchemaNode& schema) {
  switch (schema.type) {
    case ValueType::kMap:
    case ValueType::kFree:
      return "a mapping";
    case ValueType::kNamedMap:
      return "a mapping of names";
    case ValueType::kSequence:
      return "a list of " + describe(*schema.element);
    case ValueType::kString:
      return "a string";
    case ValueType::kPath:
      return "a path";
    case ValueType::kUrl:
      return "a URL";
    case ValueType::kBool:
      return "true or false";
    case ValueType::kInt:
      return "a whole number >= " + std::to_string(static_cast<long long>(schema.min));
    case ValueType::kNumber:
      return "a number >= " + std::to_string(static_cast<long long>(schema.min));
    case ValueType::kSize:
      return "a size (512m, 8g)";
    case ValueType::kEnvName:
      return "an environment variable name";
    case ValueType::kFingerprint:
      return "a 40-hex-digit fingerprint";
    case ValueType::kAny:
      return "any YAML";
  }
  return "a value";
}

}  // namespace sf::config
