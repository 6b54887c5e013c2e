#include "engine_api_labels.hpp"

namespace sf {

std::string label_filters(const Labels& labels) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& [k, v] : labels) arr.push_back(v.empty() ? k : k + "=" + v);
  return nlohmann::json{{"label", arr}}.dump();
}

Labels labels_of(const nlohmann::json& j) {
  Labels out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

std::vector<std::string> strings_of(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

Labels with_managed(Labels labels) {
  labels[kManagedLabel] = "true";
  return labels;
}

Labels with_managed_image(Labels labels) {
  labels[kManagedImageLabel] = "true";
  return labels;
}

bool labels_match(const Labels& have, const Labels& wanted) {
  for (const auto& [k, v] : wanted) {
    auto it = have.find(k);
    if (it == have.end() || (!v.empty() && it->second != v)) return false;
  }
  return true;
}

}  // namespace sf
