// The helpers the Slurm relocation patches add (configs/recipes/patches/slurm-<series>-
// relocatable.patch, src/common/read_config.c), taken out of each patch, compiled here with
// stand-ins for Slurm's xmalloc/xstring/log, and run in a tree that was moved after it was built
// (to a folder with a space in its name): the plugin directory follows libslurmfull (and
// libslurm.so for a program outside the installation), slurmstepd the executable, srun the pmi2
// plugin (dladdr); an existing compiled-in path still wins. A full Slurm under a random prefix is
// tests/e2e/plain-start.sh.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The lines the patch adds from `first` on, up to the next line it does not add.
std::string added_block(const std::string& patch, const std::string& first) {
  std::istringstream in(patch);
  std::string line, out;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "+" + first) inside = true;
    if (!inside) continue;
    if (line.empty() || line[0] != '+') break;
    out += line.substr(1) + "\n";
  }
  return out;
}

// Runs `cmd` (sh), returns its stdout; stderr dropped.
std::string output_of(const std::string& cmd) {
  std::string out;
  if (FILE* f = popen((cmd + " 2>/dev/null").c_str(), "r")) {
    char buf[4096];
    while (std::size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
    pclose(f);
  }
  return out;
}

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

const char* const kStandIns = R"(#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }
static char *xstrndup(const char *s, size_t n) { return strndup(s, n); }
#define xstrcat(p, s) do { char *n_ = malloc(strlen(p) + strlen(s) + 1); \
  strcpy(n_, p); strcat(n_, s); free(p); (p) = n_; } while (0)
#define xfree(p) do { free(p); (p) = NULL; } while (0)
static int xstrncmp(const char *a, const char *b, size_t n) { return strncmp(a, b, n); }
#define debug2(...) do { } while (0)
char *default_plugin_path = "/opt/slurm-sf-test/view/lib/slurm";
)";

// A daemon (sbin/slurmd) linking lib/slurm/libslurmfull.so, printing the plugin directory, the
// slurmstepd path, and the srun path the pmi2 plugin (lib/slurm/mpi_pmi2.so) computes.
const char* const kDaemon = R"(#include <dlfcn.h>
#include <stdio.h>
extern char *slurm_relocated_path(const char *, const char *, const char *);
extern char *slurm_default_plugin_dir(void);
int main(void) {
  char *dir = slurm_default_plugin_dir(), so[4096];
  printf("plugins=%s\n", dir);
  printf("stepd=%s\n", slurm_relocated_path("/opt/slurm-sf-test/view/sbin/slurmstepd", NULL,
                                            "slurmstepd"));
  snprintf(so, sizeof so, "%s/mpi_pmi2.so", dir);
  void *h = dlopen(so, RTLD_NOW);
  if (!h) return 1;
  char *(*srun)(void) = (char *(*)(void)) dlsym(h, "srun_path");
  printf("srun=%s\n", srun());
  return 0;
}
)";
const char* const kPlugin =
    R"(extern char *slurm_relocated_path(const char *, const char *, const char *);
extern char *slurm_object_path(const void *);
char *srun_path(void) {
  return slurm_relocated_path("/opt/slurm-sf-test/view/bin/srun",
                              slurm_object_path((void *) srun_path), "../../bin/srun");
}
)";
// A program outside the installation linking lib/libslurm.so (sshd with pam_slurm_adopt).
const char* const kOutsider = R"(#include <stdio.h>
extern char *slurm_default_plugin_dir(void);
int main(void) { printf("plugins=%s\n", slurm_default_plugin_dir()); return 0; }
)";

int sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

class SlurmRelocationPatch : public ::testing::TestWithParam<const char*> {};

TEST_P(SlurmRelocationPatch, HelpersFallBackRelativeToTheMovedInstallation) {
  const std::string series = GetParam();
  const std::string patch = read(fs::path(SF_TEST_SOURCE_DIR) / "configs/recipes/patches" /
                                 ("slurm-" + series + "-relocatable.patch"));
  const std::string helpers = added_block(
      patch, "extern char *slurm_relocated_path(const char *compiled, const char *base,");
  ASSERT_NE(helpers.find("slurm_default_plugin_dir(void)\n{"), std::string::npos) << helpers;
  ASSERT_NE(helpers.find("dladdr("), std::string::npos);

  const fs::path dir =
      fs::temp_directory_path() / ("sf-reloc-patch-" + series + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  const fs::path built = dir / "built" / "view";
  fs::create_directories(built / "sbin");
  fs::create_directories(built / "bin");
  fs::create_directories(built / "lib/slurm");
  std::ofstream(dir / "helpers.c") << kStandIns << helpers;
  std::ofstream(dir / "daemon.c") << kDaemon;
  std::ofstream(dir / "plugin.c") << kPlugin;
  std::ofstream(dir / "outsider.c") << kOutsider;
  ASSERT_EQ(sh("cc -shared -fPIC -o " + q(built / "lib/slurm/libslurmfull.so") + " " +
               q(dir / "helpers.c") + " -ldl -Wl,-soname,libslurmfull.so"),
            0);
  ASSERT_EQ(sh("cc -shared -fPIC -o " + q(built / "lib/libslurm.so.42") + " " +
               q(dir / "helpers.c") + " -ldl"),
            0);
  ASSERT_EQ(
      sh("cc -shared -fPIC -o " + q(built / "lib/slurm/mpi_pmi2.so") + " " + q(dir / "plugin.c")),
      0);
  ASSERT_EQ(sh("cc -o " + q(built / "sbin/slurmd") + " " + q(dir / "daemon.c") + " " +
               q(built / "lib/slurm/libslurmfull.so") + " -ldl -Wl,-rpath,'$ORIGIN/../lib/slurm'"),
            0);
  std::ofstream(built / "sbin/slurmstepd") << "";
  std::ofstream(built / "bin/srun") << "";

  // Moved after the build, to a folder with a space in its name.
  const fs::path view = dir / "site prefix" / "view";
  fs::create_directories(view.parent_path());
  fs::rename(built, view);
  ASSERT_EQ(sh("cc -o " + q(dir / "sshd") + " " + q(dir / "outsider.c") + " " +
               q(view / "lib/libslurm.so.42") + " -Wl,-rpath," + q(view / "lib")),
            0);

  EXPECT_EQ(output_of(q(view / "sbin/slurmd")),
            "plugins=" + (view / "lib/slurm").string() +
                "\nstepd=" + (view / "sbin/slurmstepd").string() +
                "\nsrun=" + (view / "bin/srun").string() + "\n");
  EXPECT_EQ(output_of(q(dir / "sshd")), "plugins=" + (view / "lib/slurm").string() + "\n");

  // No fallback where the relative path does not exist either: the compiled-in path stays.
  fs::remove(view / "sbin/slurmstepd");
  fs::remove(view / "bin/srun");
  EXPECT_EQ(output_of(q(view / "sbin/slurmd")),
            "plugins=" + (view / "lib/slurm").string() +
                "\nstepd=/opt/slurm-sf-test/view/sbin/slurmstepd\nsrun=/opt/slurm-sf-test/view/"
                "bin/srun\n");
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(EverySeries, SlurmRelocationPatch,
                         ::testing::Values("22.05", "23.11", "24.11", "25.11", "26.05"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (auto& c : s) c = c == '.' ? '_' : c;
                           return "slurm_" + s;
                         });

}  // namespace
