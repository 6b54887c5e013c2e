// Labels and string lists as the Engine API writes them in JSON, and the labels slurm-factory puts
// on what it creates.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slurm_factory/container_backend.hpp"

namespace sf {

// The `filters` query value selecting objects with every label of `labels` (a label with an empty
// value: any value).
std::string label_filters(const Labels& labels);
// A JSON object's string values ({} when it is not an object).
Labels labels_of(const nlohmann::json& j);
// A JSON array's strings ({} when it is not an array).
std::vector<std::string> strings_of(const nlohmann::json& j);
// Whether `have` holds every label of `wanted` (a wanted label with an empty value: any value).
bool labels_match(const Labels& have, const Labels& wanted);
// `labels` with the label that marks a container as slurm-factory's.
Labels with_managed(Labels labels);
// `labels` with the label that marks an image as slurm-factory's.
Labels with_managed_image(Labels labels);

}  // namespace sf
