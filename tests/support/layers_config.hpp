// The cache tests' config head: the cache plugins from the build tree, a local layer at `local`
// and an s3 layer "site-s3" at s3://<bucket>/builds on the s3rver; `more_settings` continues the s3
// layer's settings map (", key: value..."). The caller adds `signing:`.
#pragma once

#include <filesystem>
#include <string>

#include "s3rver.hpp"

namespace sf::test {

inline std::string local_and_s3_layers(const std::filesystem::path& local, const S3rver& server,
                                       const std::string& more_settings) {
  return "plugins:\n  search_paths: [" SF_TEST_PLUGIN_DIR
         "]\n  load: [cache-local, cache-s3]\n"
         "cache:\n  layers:\n"
         "    - {name: local, type: local, url: 'file://" +
         local.string() +
         "'}\n"
         "    - name: site-s3\n      type: s3\n      url: s3://" +
         server.bucket() +
         "/builds\n"
         "      settings: {endpoint: '" +
         server.endpoint() + "', region: us-east-1, path_style: true" + more_settings + "}\n";
}

}  // namespace sf::test
