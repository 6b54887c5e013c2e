// What a dry run shows of the cache: whether each source package's entry is in each cache layer of
// the request ("local: hit, s3: miss"), asked of the layers without fetching anything.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "app/app.hpp"
#include "config/build_request.hpp"
#include "recipes/planner.hpp"

namespace sf {

// package name -> {layer name -> "hit" | "miss" | "error" | "unknown" (the layer could not be
// opened)}, for the packages built from source.
std::map<std::string, nlohmann::json> cache_states(App& app, const BuildRequest& request,
                                                   const Plan& plan);

}  // namespace sf
