// A small staged artifact tree of real ELF files built here with cc, for the packager tests:
// view/bin/sinfo, view/sbin/slurmd and view/sbin/slurmstepd (RUNPATH $ORIGIN/../lib),
// view/lib/libslurm.so.42 (mode 0755, as libtool installs it), view/lib/slurm/auth_munge.so and
// view/share/doc/README.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "temp_dir.hpp"

namespace sf::test {

inline std::filesystem::path make_staged_view(const std::filesystem::path& dir,
                                              const std::string& name) {
  namespace fs = std::filesystem;
  auto run = [](const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); };
  const fs::path root = dir / name;
  const fs::path view = root / "view";
  for (const char* d : {"bin", "sbin", "lib/slurm", "share/doc"}) fs::create_directories(view / d);
  const std::string src = (dir / "src").string();
  fs::create_directories(src);
  write_file(src + "/lib.c", "int slurm_api(void) { return 0; }\n");
  write_file(src + "/main.c", "int slurm_api(void);\nint main(void){return slurm_api();}\n");
  EXPECT_EQ(run("cc -shared -fPIC -Wl,-soname,libslurm.so.42 -o " + view.string() +
                "/lib/libslurm.so.42 " + src + "/lib.c && chmod 755 " + view.string() +
                "/lib/libslurm.so.42"),
            0);
  for (const char* p : {"bin/sinfo", "sbin/slurmd", "sbin/slurmstepd"}) {
    EXPECT_EQ(run("cc -o " + (view / p).string() + " " + src + "/main.c -L" + view.string() +
                  "/lib -l:libslurm.so.42 && patchelf --set-rpath '$ORIGIN/../lib' " +
                  (view / p).string()),
              0);
  }
  EXPECT_EQ(
      run("cp " + view.string() + "/lib/libslurm.so.42 " + view.string() +
          "/lib/slurm/auth_munge.so && chmod 644 " + view.string() + "/lib/slurm/auth_munge.so"),
      0);
  write_file(view / "share/doc/README", "Slurm\n");
  return root;
}

}  // namespace sf::test
