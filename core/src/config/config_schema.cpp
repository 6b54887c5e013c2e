#include "config/config_schema.hpp"

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
  for (const auto& f : fields) {
    if (f.node->replaced_by.empty()) names.push_back(f.name);
  }
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

SchemaPtr deprecated(SchemaPtr node, std::string replaced_by) {
  auto n = std::make_shared<SchemaNode>(*node);
  n->replaced_by = std::move(replaced_by);
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
                         {"arches", sequence(scalar(ValueType::kString))},
                     },
                     /*open=*/false, /*required=*/true)},
      {"exclude", sequence(map({
                      {"slurm_version", scalar(ValueType::kString)},
                      {"toolchain", scalar(ValueType::kString)},
                      {"gpu", scalar(ValueType::kAny)},
                      {"arch", scalar(ValueType::kString)},
                  }))},
      {"packagers", sequence(scalar(ValueType::kString))},
      {"publish", scalar(ValueType::kString)},
      {"backend", scalar(ValueType::kString)},
      {"profile", scalar(ValueType::kString)},
      {"parallel", scalar(ValueType::kInt, false, 1)},
      {"keep_going", scalar(ValueType::kBool)},
      {"verify", scalar(ValueType::kBool)},
      {"output", scalar(ValueType::kPath)},
      {"executor", scalar(ValueType::kAny)},  // a word or a mapping: pipeline_executor.cpp
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
      // Settings of each packager, by name (read by the packager plugin: docs/packaging.md).
      {"packagers", named(scalar(ValueType::kFree))},
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
      // Settings of a toolchain family, by family name (debian: {mirror: URL}).
      {"toolchain_families", named(map({{"mirror", scalar(ValueType::kUrl)}}))},
      {"debian_mirror", deprecated(scalar(ValueType::kUrl), "toolchain_families.debian.mirror")},
      {"pipelines", named(pipeline_schema())},
  };
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
