#include "config/config_edit.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <system_error>

#include "slurm_factory/errors.hpp"

namespace sf {

namespace fs = std::filesystem;

bool add_trusted_fingerprint(const fs::path& file, const std::string& fingerprint) {
  YAML::Node root;
  std::error_code ec;
  if (fs::exists(file, ec)) {
    try {
      root = YAML::LoadFile(file.string());
    } catch (const YAML::Exception& e) {
      throw ConfigurationError("cannot parse " + file.string() + ": " + e.what(),
                               {{"file", file.string()}}, "fix the file, then run again");
    }
    fs::copy_file(file, file.string() + ".bak", fs::copy_options::overwrite_existing, ec);
  }
  if (!root.IsMap()) root = YAML::Node(YAML::NodeType::Map);
  YAML::Node trusted = root["signing"]["trusted_fingerprints"];
  bool present = false;
  if (trusted.IsSequence()) {
    for (const auto& n : trusted)
      if (n.as<std::string>() == fingerprint) present = true;
  }
  if (!present) root["signing"]["trusted_fingerprints"].push_back(fingerprint);
  fs::create_directories(file.parent_path(), ec);
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    YAML::Emitter em;
    em << root;
    out << em.c_str() << "\n";
    if (!out)
      throw ConfigurationError("cannot write " + tmp.string(), {{"file", tmp.string()}},
                               "check permissions");
  }
  fs::rename(tmp, file, ec);
  if (ec)
    throw ConfigurationError("cannot write " + file.string() + ": " + ec.message(),
                             {{"file", file.string()}}, "check permissions");
  return present;
}

}  // namespace sf
