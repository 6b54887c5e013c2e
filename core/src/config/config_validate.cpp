#include "config/config_validate.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <regex>

#include "slurm_factory/errors.hpp"
#include "support/strings.hpp"

namespace sf::config {
namespace {

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

}  // namespace sf::config
