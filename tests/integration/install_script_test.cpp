// slurm_install.sh in a real bookworm container (docker and podman; the bookworm toolchain image,
// bootstrapped offline and reused by its hash): unpacked under a random prefix, `--dry-run
// --full-init` prints its plan and changes nothing; run for real (as root, without systemd) it
// creates the users, the directories, keys with the right owners and modes, slurmdbd.conf (mode
// 600, generated password) and a slurm.conf for a host without systemd (proctrack/linuxproc,
// task/none); a second run changes nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "../support/requirement.hpp"
#include "../support/shipped_family.hpp"
#include "artifact/artifact_assets.hpp"
#include "plugin_host/plugin_host.hpp"
#include "sf_toolchain/apt.hpp"
#include "slurm_factory/container_backend.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/toolchain.hpp"
#include "support/template_renderer.hpp"
#include "toolchains/toolchain_image.hpp"

namespace fs = std::filesystem;

namespace {

// Shared with containers_test: the same bootstrap cache and the same release definition, so the
// toolchain image one prepared is reused by the other.
const fs::path kCacheDir = fs::path(SF_TEST_BINARY_DIR) / "containers-test-cache";

sf::ToolchainImageRequest bookworm_request() {
  sf::ToolchainRelease r;
  r.name = "bookworm";
  r.family = "debian";
  r.os_name = "Debian GNU/Linux 12 (bookworm)";
  r.os_version = "12";
  r.gcc_version = "12.2";
  r.glibc_version = "2.36";
  r.base_image = "docker.io/library/debian:bookworm";
  r.build_tools = {{"compiler", {"gcc", "libc6-dev"}}};
  sf::BootstrapRecipe b;
  b.tool = "mmdebstrap";
  b.suite = "bookworm";
  b.mirror = "http://deb.debian.org/debian";
  b.components = {"main"};
  r.bootstrap = b;
  r.origin = "containers_test";
  sf::ToolchainImageRequest req;
  req.release = r;
  req.setup_script = sf::apt::render_setup_script(req.release, {});
  req.family = sf::test::shipped_family("debian");
  req.cache_dir = kCacheDir;
  req.try_pull = true;
  return req;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// "path mode owner:group size" lines -> path -> "mode owner:group size".
std::map<std::string, std::string> stat_lines(const std::string& text) {
  std::map<std::string, std::string> m;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto sp = line.find(' ');
    if (sp != std::string::npos) m[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return m;
}

// The whole job inside the container; results land in /work for the checks below.
constexpr const char* kScript = R"SH(
set -eu
P=/opt/site-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
mkdir -p "$(dirname "$P")"
cp -a /work/art "$P"
echo "$P" > /work/prefix
S="$P/data/slurm_assets/slurm_install.sh"
snapshot() {
  find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /tmp -o -path /work \) -prune \
    -o -printf '%p %m %u:%g %s %T@\n' 2>/dev/null | sort
}
snapshot > /tmp/before
bash "$S" --dry-run --full-init --cluster-name itest > /work/dryrun.out 2>&1
snapshot > /tmp/after
diff /tmp/before /tmp/after > /work/dryrun.diff || true
bash "$S" --full-init --cluster-name itest > /work/real.out 2>&1
sha256sum /etc/munge/munge.key /etc/slurm/slurm.key /etc/slurm/jwt_hs256.key \
  /etc/slurm/slurm.conf /etc/slurm/slurmdbd.conf "$P/modules/slurm/"*.lua > /work/sums1
bash "$S" --full-init --cluster-name itest > /work/real2.out 2>&1
sha256sum /etc/munge/munge.key /etc/slurm/slurm.key /etc/slurm/jwt_hs256.key \
  /etc/slurm/slurm.conf /etc/slurm/slurmdbd.conf "$P/modules/slurm/"*.lua > /work/sums2
getent passwd slurm munge > /work/users
stat -c '%n %a %U:%G %s' /etc/munge/munge.key /etc/slurm/slurm.key /etc/slurm/jwt_hs256.key \
  /etc/slurm/slurmdbd.conf /etc/slurm/slurm.conf /etc/munge /var/spool/slurmctld \
  /var/spool/slurmd /var/log/slurm /etc/slurm > /work/stat
cp /etc/slurm/slurm.conf /work/slurm.conf
cp /etc/slurm/slurmdbd.conf /work/slurmdbd.conf
cp /etc/systemd/system/slurmd.service /work/slurmd.service
uname -n | cut -d. -f1 > /work/hostname
chmod -R a+rX /work
)SH";

}  // namespace

class InstallScriptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InstallScriptTest, DryRunChangesNothingAndTheRealRunSetsUpTheHost) {
  sf::PluginHost host;
  host.load_file(fs::path(SF_TEST_PLUGIN_DIR) / ("libsf-backend-" + GetParam() + ".so"));
  auto backend = host.make_container_backend(GetParam(), nlohmann::json::object());
  try {
    backend->info();
  } catch (const sf::ContainerError& e) {
    SF_REQUIRE_OR_SKIP(GetParam() << " does not answer: " << e.what());
  }
  const auto image = sf::prepare_toolchain_image(*backend, bookworm_request());

  const fs::path work =
      fs::temp_directory_path() / ("sf-install-it-" + GetParam() + "-" + std::to_string(getpid()));
  fs::remove_all(work);
  const fs::path art = work / "art";
  sf::ArtifactInfo info{"24.11.5", "bookworm", "debian",     "Debian GNU/Linux 12 (bookworm)",
                        "amd64",   {},         "/opt/slurm", "0.1.0"};
  sf::render_artifact_assets(info, art,
                             sf::TemplateRenderer(fs::path(SF_TEST_SOURCE_DIR) / "templates"));
  fs::create_directories(art / "view/sbin");
  fs::create_directories(art / "view/lib/slurm");

  // Not the hermetic runner: that one drops every capability, as builds must. An install host's
  // root needs CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_SETUID, ... (useradd, chown, runuser), so this is a
  // plain container with the engine's default capabilities, no network, as root.
  sf::ContainerSpec c;
  c.image = image.tag;
  c.command = {"/bin/bash", "-c", kScript};
  c.user = "0:0";
  c.mounts = {{work, "/work", false}};
  c.memory_bytes = 512LL * 1024 * 1024;
  c.pids_limit = 512;
  c.network = sf::NetworkMode::kNone;
  c.drop_capabilities = false;
  c.labels = {{"org.slurm-factory.test", "install-script"}};
  const std::string id = backend->create_container(c);
  std::string log;
  int exit_code = -1;
  try {
    backend->start_container(id);
    backend->stream_logs(
        id, [&](sf::Stream, std::string_view d) { log.append(d); }, std::chrono::minutes(5));
    exit_code = backend->wait_container(id, std::chrono::seconds(60)).exit_code;
  } catch (...) {
    backend->remove_container(id, true);
    throw;
  }
  backend->remove_container(id, true);
  ASSERT_EQ(exit_code, 0) << log << "\n--- dry run:\n"
                          << read(work / "dryrun.out") << "\n--- real run:\n"
                          << read(work / "real.out") << "\n--- second run:\n"
                          << read(work / "real2.out");

  const std::string prefix = [&] {
    std::string p = read(work / "prefix");
    return p.substr(0, p.find('\n'));
  }();
  ASSERT_EQ(prefix.rfind("/opt/site-", 0), 0u) << prefix;

  // Dry run: a plan, and not one file of the container changed.
  const std::string dry = read(work / "dryrun.out");
  EXPECT_NE(dry.find("dry run: nothing on this host is changed"), std::string::npos) << dry;
  EXPECT_NE(dry.find("would generate /etc/munge/munge.key"), std::string::npos) << dry;
  EXPECT_NE(dry.find("would run: useradd --system --gid slurm"), std::string::npos) << dry;
  EXPECT_NE(dry.find("would write /etc/slurm/slurm.conf"), std::string::npos) << dry;
  EXPECT_EQ(read(work / "dryrun.diff"), "") << "--dry-run changed the container";

  // Real run: users, directories, keys, configs.
  const std::string real = read(work / "real.out");
  EXPECT_NE(real.find("proctrack/linuxproc and task/none"), std::string::npos) << real;
  const std::string users = read(work / "users");
  EXPECT_NE(users.find("slurm:x:"), std::string::npos) << users;
  EXPECT_NE(users.find("munge:x:"), std::string::npos) << users;
  const auto st = stat_lines(read(work / "stat"));
  EXPECT_EQ(st.at("/etc/munge/munge.key"), "400 munge:munge 1024");
  EXPECT_EQ(st.at("/etc/slurm/slurm.key"), "600 slurm:slurm 1024");
  EXPECT_EQ(st.at("/etc/slurm/jwt_hs256.key"), "600 slurm:slurm 32");
  EXPECT_EQ(st.at("/etc/slurm/slurmdbd.conf").substr(0, 15), "600 slurm:slurm");
  EXPECT_EQ(st.at("/etc/slurm/slurm.conf").substr(0, 13), "644 root:root");
  EXPECT_EQ(st.at("/etc/munge").substr(0, 15), "700 munge:munge");
  EXPECT_EQ(st.at("/var/spool/slurmctld").substr(0, 15), "700 slurm:slurm");
  EXPECT_EQ(st.at("/var/spool/slurmd").substr(0, 13), "755 root:root");
  EXPECT_EQ(st.at("/var/log/slurm").substr(0, 15), "755 slurm:slurm");

  const std::string conf = read(work / "slurm.conf");
  const std::string hostname =
      read(work / "hostname").substr(0, read(work / "hostname").find('\n'));
  EXPECT_NE(conf.find("ClusterName=itest\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("SlurmctldHost=" + hostname + "\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("ProctrackType=proctrack/linuxproc\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("TaskPlugin=task/none\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("PluginDir=" + prefix + "/view/lib/slurm\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("AuthInfo=socket=/run/munge/munge.socket.2\n"), std::string::npos) << conf;
  EXPECT_TRUE(std::regex_search(
      conf,
      std::regex("\nNodeName=" + hostname + " CPUs=[0-9]+.* RealMemory=[0-9]+ State=UNKNOWN\n")))
      << conf;
  // Every install-time placeholder was filled (disabled "#@TAG@" option lines stay comments).
  EXPECT_FALSE(std::regex_search(conf, std::regex("^[^#].*@[A-Z_]+@", std::regex::multiline)))
      << conf;

  const std::string dbd = read(work / "slurmdbd.conf");
  EXPECT_TRUE(std::regex_search(dbd, std::regex("\nStoragePass=[0-9a-f]{48}\n"))) << dbd;
  EXPECT_EQ(dbd.find("@DB_PASSWORD@"), std::string::npos);

  const std::string unit = read(work / "slurmd.service");
  EXPECT_NE(unit.find("ExecStart=" + prefix + "/view/sbin/slurmd --systemd -d " + prefix +
                      "/view/sbin/slurmstepd"),
            std::string::npos)
      << unit;

  // Idempotent: the second run keeps keys, password and configs.
  EXPECT_EQ(read(work / "sums1"), read(work / "sums2"));
  const std::string again = read(work / "real2.out");
  EXPECT_NE(again.find("/etc/munge/munge.key: kept"), std::string::npos) << again;
  EXPECT_NE(again.find("/etc/slurm/slurm.conf: unchanged"), std::string::npos) << again;
  EXPECT_NE(again.find("text files already name " + prefix), std::string::npos) << again;

  fs::remove_all(work);
}

INSTANTIATE_TEST_SUITE_P(Engines, InstallScriptTest, ::testing::Values("docker", "podman"),
                         [](const auto& info) { return info.param; });
