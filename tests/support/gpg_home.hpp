// A throwaway GNUPGHOME for tests: created empty (0700), its gpg-agent killed and the directory
// removed at the end of the scope. Never a committed key.
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "temp_dir.hpp"

namespace sf::test {

class GpgHome {
 public:
  GpgHome() : dir_("sf-gnupg") {
    // Short path: gpg-agent's socket path must fit in sockaddr_un.
    ::chmod(dir_.path().c_str(), 0700);
  }
  ~GpgHome() {
    std::string cmd = "gpgconf --homedir '" + dir_.path().string() + "' --kill all >/dev/null 2>&1";
    [[maybe_unused]] int rc = std::system(cmd.c_str());
  }
  std::string path() const { return dir_.path().string(); }

 private:
  TempDir dir_;
};

}  // namespace sf::test
