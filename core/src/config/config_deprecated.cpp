#include "config/config_deprecated.hpp"

#include <cstddef>
#include <utility>

namespace sf::config {
namespace {

std::vector<std::string> words_of(const std::string& key_path) {
  std::vector<std::string> words;
  std::size_t pos = 0;
  while (true) {
    const auto dot = key_path.find('.', pos);
    words.push_back(key_path.substr(pos, dot == std::string::npos ? dot : dot - pos));
    if (dot == std::string::npos) return words;
    pos = dot + 1;
  }
}

// The node at `words` under `map`, or an undefined node. Read-only: never rebinds the tree.
YAML::Node lookup(const YAML::Node& map, const std::vector<std::string>& words) {
  YAML::Node current;
  current.reset(map);
  for (const auto& word : words) {
    if (!current.IsDefined() || !current.IsMap()) return YAML::Node();
    const YAML::Node next = std::as_const(current)[word];
    if (!next.IsDefined()) return YAML::Node();
    current.reset(next);
  }
  return current;
}

// A new mapping with the entries of `existing` (when it is one) and words[i..] set to `value`. New
// nodes all the way down: the merged tree shares nodes with the layers it was made from, and
// assigning into a shared node would rewrite that layer too.
YAML::Node with_value(const YAML::Node& existing, const std::vector<std::string>& words,
                      std::size_t i, const YAML::Node& value) {
  YAML::Node fresh(YAML::NodeType::Map);
  if (existing.IsDefined() && existing.IsMap()) {
    for (const auto& kv : existing) {
      if (kv.first.Scalar() != words[i]) fresh[kv.first.Scalar()] = kv.second;
    }
  }
  fresh[words[i]] =
      i + 1 == words.size() ? value : with_value(lookup(existing, {words[i]}), words, i + 1, value);
  return fresh;
}

// The key node of `key` in `map` (for its file:line).
YAML::Mark key_mark(const YAML::Node& map, const std::string& key) {
  for (const auto& kv : map) {
    if (kv.first.Scalar() == key) return kv.first.Mark();
  }
  return YAML::Mark::null_mark();
}

}  // namespace

std::string flow_yaml_of(const std::string& key_path) {
  const auto words = words_of(key_path);
  std::string out = "...";
  for (auto it = words.rbegin(); it != words.rend(); ++it) {
    out = *it + ": " + out;
    if (it + 1 != words.rend()) out = "{" + out + "}";
  }
  return out;
}

void move_deprecated_keys(YAML::Node& tree, Origins& origins, const YAML::Node& layer,
                          const SchemaNode& schema, const LayerSource& source,
                          std::vector<std::string>& warnings) {
  if (!layer.IsDefined() || !layer.IsMap()) return;
  for (const auto& field : schema.fields) {
    const std::string& old_key = field.name;
    const std::string& new_key = field.node->replaced_by;
    if (new_key.empty()) continue;
    const YAML::Node value = lookup(layer, {old_key});
    if (!value.IsDefined() || value.IsNull()) continue;
    const std::string where = source.where(key_mark(layer, old_key)) + source.suffix;
    const auto words = words_of(new_key);
    const YAML::Node also = lookup(layer, words);
    if (also.IsDefined() && !also.IsNull()) {
      warnings.push_back(where + ": '" + old_key + "' is deprecated and ignored here: '" + new_key +
                         "' (" + source.where(also.Mark()) + source.suffix +
                         ") is set too and wins; remove '" + old_key + "'");
    } else {
      const std::string origin = origins.count(old_key) ? origins[old_key] : source.origin(value);
      YAML::Node moved =
          words.size() == 1 ? value : with_value(lookup(tree, {words[0]}), words, 1, value);
      tree.remove(words[0]);
      tree[words[0]] = moved;
      erase_origins_under(origins, new_key);
      origins[new_key] = origin;
      warnings.push_back(where + ": '" + old_key + "' is deprecated; write '" +
                         flow_yaml_of(new_key) + "' instead");
    }
    tree.remove(old_key);
    erase_origins_under(origins, old_key);
  }
}

}  // namespace sf::config
