// A config loaded from YAML text, as a site writes it: the text in <temp>/site.yaml, no system or
// user file, HOME the temp folder (tests only). error_for() returns the ConfigurationError the
// text gives (a test failure when it gives none).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "config/config_loader.hpp"
#include "slurm_factory/errors.hpp"
#include "temp_dir.hpp"

namespace sf::test {

class ConfigText {
 public:
  explicit ConfigText(const std::string& tag) : dir_(tag) {}

  Config load(const std::string& yaml) const {
    std::ofstream(dir_.path() / "site.yaml") << yaml;
    ConfigSources s;
    s.files = {dir_.path() / "site.yaml"};
    s.read_system_file = false;
    s.read_user_file = false;
    s.environment = {{"HOME", dir_.path().string()}};
    return load_config(s);
  }
  ConfigurationError error_for(const std::string& yaml) const {
    try {
      (void)load(yaml);
    } catch (const ConfigurationError& e) {
      return e;
    }
    ADD_FAILURE() << "no error for:\n" << yaml;
    return ConfigurationError("none");
  }
  std::string file() const { return (dir_.path() / "site.yaml").string(); }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
};

}  // namespace sf::test
