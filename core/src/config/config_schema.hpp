// The shape of a slurm-factory config file: which keys exist, their types and which are required.
// Checking a YAML layer against it: config_validate.hpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace sf::config {

enum class ValueType {
  kMap,       // fixed keys (fields); `open` maps also accept keys not listed
  kNamedMap,  // any name -> element (toolchains, backends, toolchain_families, profiles)
  kSequence,  // list of element
  kString,
  kPath,  // a string; "~" and "${cache_dir}" are expanded when the config is made
  kUrl,   // a string with a scheme; no password in it
  kBool,
  kInt,          // integer >= min
  kNumber,       // number >= min
  kSize,         // "8g", "512m", "1024" (bytes)
  kEnvName,      // the NAME of an environment variable, never its value
  kFingerprint,  // an OpenPGP fingerprint: 40 hex digits (spaces allowed)
  kFree,         // any mapping (provider/backend settings); secret-looking keys refused
  kAny,          // any YAML (kept raw)
};

struct SchemaNode;
using SchemaPtr = std::shared_ptr<const SchemaNode>;

struct SchemaField {
  std::string name;
  SchemaPtr node;
};

struct SchemaNode {
  ValueType type = ValueType::kString;
  std::vector<SchemaField> fields;  // kMap
  SchemaPtr element;                // kSequence, kNamedMap
  bool required = false;            // as a field of its parent map
  bool open = false;                // kMap: accept unlisted keys (validated by someone else)
  double min = 0;                   // kInt, kNumber
  // A deprecated key: the key path that replaces it ("toolchain_families.debian.mirror"). Its value
  // is still validated here; the loader moves it to the new key and warns (config_deprecated.hpp).
  // Not listed by field_names().
  std::string replaced_by;

  const SchemaNode* field(const std::string& name) const;
  std::vector<std::string> field_names() const;  // the current keys (no deprecated ones)
};

// The whole file, `profiles:` included.
const SchemaNode& root_schema();
// What one profile may set: the root without `profiles`.
const SchemaNode& profile_schema();

// The schema of a key path ("build.jobs", "cache.layers", "toolchains.mysite"), or nullptr.
const SchemaNode* schema_at(const std::string& key_path);

// Human name of a type for messages ("an integer >= 0", "a mapping").
std::string describe(const SchemaNode& schema);

}  // namespace sf::config
