// An image build context made in memory: a tar archive (libarchive, ustar) of a few files, such as
// a generated Containerfile and a setup script. Deterministic: fixed mtime and owner.
#pragma once

#include <string>
#include <vector>

namespace sf {

struct ContextFile {
  std::string path;  // relative, e.g. "Containerfile"
  std::string content;
  int mode = 0644;
};

std::string make_build_context(const std::vector<ContextFile>& files);

}  // namespace sf
