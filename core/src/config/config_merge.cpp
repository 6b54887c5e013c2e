#include "config/config_merge.hpp"

#include <utility>

namespace sf::config {
namespace {

bool defined(const YAML::Node& map, const std::string& key) {
  const YAML::Node& c = map;
  const YAML::Node v = c[key];
  return v.IsDefined() && !v.IsNull();
}

void replace(YAML::Node& parent, Origins& origins, const std::string& key, const YAML::Node& value,
             const std::string& path, const LayerSource& source) {
  erase_origins_under(origins, path);
  parent[key] = value;
  record_origins(origins, value, path, source);
}

void merge_map(YAML::Node tree, Origins& origins, const YAML::Node& layer, const SchemaNode& schema,
               const std::string& key_path, const LayerSource& source) {
  for (const auto& kv : layer) {
    const std::string key = kv.first.Scalar();
    const YAML::Node& value = kv.second;
    if (!value.IsDefined() || value.IsNull()) continue;  // "key:" with nothing: not set here
    if (key_path.empty() && key == "profiles") continue;
    const std::string path = join_key(key_path, key);
    const SchemaNode* child = schema.field(key);
    if (child != nullptr && child->type == ValueType::kMap && !child->open) {
      if (!defined(tree, key) || !std::as_const(tree)[key].IsMap()) {
        tree[key] = YAML::Node(YAML::NodeType::Map);
      }
      origins[path] = source.origin(value);
      merge_map(tree[key], origins, value, *child, path, source);
    } else if (child != nullptr && child->type == ValueType::kNamedMap) {
      if (!defined(tree, key) || !std::as_const(tree)[key].IsMap()) {
        tree[key] = YAML::Node(YAML::NodeType::Map);
      }
      origins[path] = source.origin(value);
      YAML::Node entries = tree[key];
      for (const auto& entry : value) {
        if (!entry.second.IsDefined() || entry.second.IsNull()) continue;
        replace(entries, origins, entry.first.Scalar(), entry.second,
                join_key(path, entry.first.Scalar()), source);
      }
    } else {
      replace(tree, origins, key, value, path, source);
    }
  }
}

}  // namespace

void merge_layer(YAML::Node& tree, Origins& origins, const YAML::Node& layer,
                 const SchemaNode& schema, const LayerSource& source) {
  if (!layer.IsDefined() || !layer.IsMap()) return;
  if (!tree.IsDefined() || !tree.IsMap()) tree = YAML::Node(YAML::NodeType::Map);
  merge_map(tree, origins, layer, schema, "", source);
}

void erase_origins_under(Origins& origins, const std::string& key_path) {
  auto it = origins.lower_bound(key_path);
  while (it != origins.end() && it->first.compare(0, key_path.size(), key_path) == 0) {
    const std::string& k = it->first;
    if (k.size() == key_path.size() || k[key_path.size()] == '.' || k[key_path.size()] == '[') {
      it = origins.erase(it);
    } else {
      ++it;
    }
  }
}

void record_origins(Origins& origins, const YAML::Node& value, const std::string& key_path,
                    const LayerSource& source) {
  origins[key_path] = source.origin(value);
  if (value.IsMap()) {
    for (const auto& kv : value) {
      record_origins(origins, kv.second, join_key(key_path, kv.first.Scalar()), source);
    }
  } else if (value.IsSequence()) {
    std::size_t i = 0;
    for (const auto& item : value) record_origins(origins, item, join_index(key_path, i++), source);
  }
}

}  // namespace sf::config
