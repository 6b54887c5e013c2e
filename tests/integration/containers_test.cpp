// The container backends against real engines: the same suite for docker and podman, each loaded
// through its plugin. Engines: tests/support/start-engines.sh. A test skips (one line) only when
// its engine does not answer. The bookworm base rootfs is bootstrapped once (mmdebstrap from
// deb.debian.org) and cached in <build>/containers-test-cache between runs.
#include <gtest/gtest.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "../support/requirement.hpp"
#include "../support/shipped_family.hpp"
#include "containers/container_clean.hpp"
#include "containers/hermetic_runner.hpp"
#include "engine_api/engine_api_backend.hpp"
#include "engine_api/engine_api_client.hpp"
#include "plugin_host/plugin_host.hpp"
#include "sf_toolchain/apt.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/toolchain.hpp"
#include "toolchains/rootfs_bootstrap.hpp"
#include "toolchains/toolchain_image.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const fs::path kCacheDir = fs::path(SF_TEST_BINARY_DIR) / "containers-test-cache";
constexpr const char* kRunLabel = "org.slurm-factory.test-run";

sf::PluginHost& host() {
  static sf::PluginHost h;
  static std::once_flag once;
  std::call_once(once, [] {
    h.load_file(fs::path(SF_TEST_PLUGIN_DIR) / "libsf-backend-docker.so");
    h.load_file(fs::path(SF_TEST_PLUGIN_DIR) / "libsf-backend-podman.so");
  });
  return h;
}

// A label value unique to one test, so concurrent runs never see each other's objects.
std::string run_id() {
  static std::atomic<int> n{0};
  return std::to_string(::getpid()) + "-" + std::to_string(n++);
}

sf::ToolchainRelease bookworm() {
  sf::ToolchainRelease r;
  r.name = "bookworm";
  r.family = "debian";
  r.os_name = "Debian GNU/Linux 12 (bookworm)";
  r.os_version = "12";
  r.gcc_version = "12.2";
  r.glibc_version = "2.36";
  // Not reachable here (no registry): prepare falls back to the offline bootstrap.
  r.base_image = "docker.io/library/debian:bookworm";
  r.build_tools = {{"compiler", {"gcc", "libc6-dev"}}};
  sf::BootstrapRecipe b;
  b.tool = "mmdebstrap";
  b.suite = "bookworm";
  b.mirror = "http://deb.debian.org/debian";
  b.components = {"main"};
  r.bootstrap = b;
  r.origin = "containers_test";
  return r;
}

sf::ToolchainImageRequest bookworm_request() {
  sf::ToolchainImageRequest req;
  req.release = bookworm();
  req.setup_script = sf::apt::render_setup_script(req.release, {});
  req.family = sf::test::shipped_family("debian");
  req.cache_dir = kCacheDir;
  req.try_pull = true;
  return req;
}

bool tcp_connect(const std::string& host_name, const std::string& port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host_name.c_str(), port.c_str(), &hints, &res) != 0) return false;
  bool ok = false;
  for (auto* p = res; p != nullptr && !ok; p = p->ai_next) {
    const int fd = ::socket(p->ai_family, p->ai_socktype, p->ai_protocol);
    if (fd < 0) continue;
    ok = ::connect(fd, p->ai_addr, p->ai_addrlen) == 0;
    ::close(fd);
  }
  freeaddrinfo(res);
  return ok;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ContainersTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend_ = host().make_container_backend(GetParam(), nlohmann::json::object());
    try {
      info_ = backend_->info();
    } catch (const sf::ContainerError& e) {
      SF_REQUIRE_OR_SKIP(GetParam() << " does not answer: " << e.what() << " ("
                                    << e.context_value("socket") << ")");
    }
    run_ = run_id();
    work_ = fs::temp_directory_path() / ("sf-containers-" + GetParam() + "-" + run_);
    fs::create_directories(work_ / "src");
    fs::create_directories(work_ / "work");
  }
  void TearDown() override {
    if (backend_ && !run_.empty()) {
      for (const auto& c : backend_->list_containers({{kRunLabel, run_}})) {
        backend_->remove_container(c.id, true);
      }
    }
    std::error_code ec;
    if (!work_.empty()) fs::remove_all(work_, ec);
  }

  // The toolchain image, prepared once per engine and process.
  std::string image() {
    static std::map<std::string, std::string> images;
    static std::mutex m;
    std::lock_guard lock(m);
    auto it = images.find(GetParam());
    if (it != images.end()) return it->second;
    auto prepared = sf::prepare_toolchain_image(*backend_, bookworm_request());
    images[GetParam()] = prepared.tag;
    return prepared.tag;
  }

  sf::HermeticRunSpec run_spec(const std::string& script) {
    sf::HermeticRunSpec s;
    s.image = image();
    s.script = script;
    s.inputs = {{work_ / "src", "/src", true}};
    s.work_dir = work_ / "work";
    s.labels = {{kRunLabel, run_}};
    s.log_file = work_ / "logs" / "run.log";
    s.memory_bytes = 512LL * 1024 * 1024;
    s.shm_bytes = 64LL * 1024 * 1024;
    s.pids_limit = 256;
    s.cpus = 1.0;
    s.context = {{"package", "containers-test"}, {"stage", "build"}};
    return s;
  }

  // Waits until our container of this run is running; returns its id.
  std::string wait_for_running_container() {
    for (int i = 0; i < 300; ++i) {
      for (const auto& c : backend_->list_containers({{kRunLabel, run_}})) {
        if (c.state == "running") return c.id;
      }
      std::this_thread::sleep_for(100ms);
    }
    return {};
  }

  void expect_nothing_left() {
    EXPECT_TRUE(backend_->list_containers({{kRunLabel, run_}}).empty())
        << "a container of this test was left behind";
  }

  std::unique_ptr<sf::ContainerBackend> backend_;
  sf::EngineInfo info_;
  std::string run_;
  fs::path work_;
};

TEST_P(ContainersTest, EngineInfoNegotiatesTheApi) {
  EXPECT_EQ(info_.engine, GetParam());
  EXPECT_FALSE(info_.version.empty());
  EXPECT_EQ(info_.api_version.rfind("1.", 0), 0U) << info_.api_version;
  EXPECT_TRUE(fs::exists(info_.socket));
}

TEST_P(ContainersTest, PrepareBootstrapsOfflineThenReuses) {
  const auto req = bookworm_request();
  // Whether this run has to bootstrap: the base image (tagged by the recipe's hash) is missing.
  const std::string base =
      "slurm-factory/base-bookworm:" +
      sf::bootstrap_recipe_hash(*req.release.bootstrap, req.release.arch).substr(0, 12);
  const bool must_bootstrap =
      !backend_->image_exists(sf::toolchain_image_tag("bookworm", sf::toolchain_image_hash(req))) &&
      !backend_->image_exists(base);
  sf::ToolchainImage first;
  try {
    first = sf::prepare_toolchain_image(*backend_, req);
  } catch (const sf::SlurmFactoryError& e) {
    FAIL() << e.render();
  }
  EXPECT_EQ(first.tag, sf::toolchain_image_tag("bookworm", sf::toolchain_image_hash(req)));
  EXPECT_EQ(first.tag.rfind("slurm-factory/toolchain-bookworm:", 0), 0U);
  auto info = backend_->inspect_image(first.tag);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->labels[sf::kManagedImageLabel], "true");
  EXPECT_EQ(info->labels.count(sf::kManagedLabel), 0U);
  EXPECT_EQ(info->labels[sf::kKindLabel], "toolchain");
  // A bootstrapped base rootfs is cached for the next run and the next engine (when the images
  // already exist on this engine, nothing was bootstrapped and the cache may be empty).
  if (must_bootstrap) {
    bool cached = false;
    for (const auto& e : fs::directory_iterator(kCacheDir / "bootstrap")) {
      cached = cached || e.path().extension() == ".tar";
    }
    EXPECT_TRUE(cached);
  }

  auto second = sf::prepare_toolchain_image(*backend_, req);
  EXPECT_TRUE(second.reused);
  EXPECT_EQ(second.tag, first.tag);
  EXPECT_LT(second.elapsed, 1000ms);

  // Another setup script is another image.
  auto changed = req;
  changed.setup_script += "\n# changed\n";
  EXPECT_NE(sf::toolchain_image_hash(changed), sf::toolchain_image_hash(req));
}

TEST_P(ContainersTest, CompilesAndRunsHelloWorldAsTheBuilderUser) {
  std::ofstream(work_ / "src" / "hello.c")
      << "#include <stdio.h>\nint main(void){puts(\"hello from slurm-factory\");return 0;}\n";
  auto spec = run_spec(
      "set -e; gcc -O2 -o /work/hello /src/hello.c; /work/hello; echo uid=$(id -u); "
      "touch /src/x 2>/dev/null && echo src-writable || echo src-read-only");
  auto result = sf::run_hermetic(*backend_, spec);
  EXPECT_EQ(result.exit_code, 0);
  const std::string log = read_file(result.log_file);
  EXPECT_NE(log.find("hello from slurm-factory"), std::string::npos) << log;
  EXPECT_NE(log.find("uid=" + std::to_string(sf::kBuilderUid)), std::string::npos) << log;
  EXPECT_NE(log.find("src-read-only"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(work_ / "work" / "hello"));
  expect_nothing_left();
}

// A cache mount (the compiler cache of build.ccache) is writable by the builder user, even when
// it is 0700 and the caller asked for read-only; the inputs stay read-only beside it.
TEST_P(ContainersTest, CacheMountsAreWritableByTheBuilder) {
  fs::create_directories(work_ / "cc");
  fs::permissions(work_ / "cc", fs::perms::owner_all, fs::perm_options::replace);
  auto spec = run_spec(
      "set -e; echo kept > /cache/obj; echo uid=$(id -u); "
      "touch /src/x 2>/dev/null && echo src-writable || echo src-read-only");
  spec.caches = {{work_ / "cc", "/cache", true}};
  auto result = sf::run_hermetic(*backend_, spec);
  const std::string log = read_file(result.log_file);
  EXPECT_EQ(result.exit_code, 0) << log;
  EXPECT_EQ(read_file(work_ / "cc" / "obj"), "kept\n");
  EXPECT_NE(log.find("src-read-only"), std::string::npos) << log;
  expect_nothing_left();
}

TEST_P(ContainersTest, NetworkIsOffInsideAndOnOutside) {
  ASSERT_TRUE(tcp_connect("deb.debian.org", "80")) << "the host itself cannot reach the mirror";
  auto spec = run_spec(
      "if (exec 3<>/dev/tcp/deb.debian.org/80) 2>/dev/null; then echo NET-ON; else echo NET-OFF; "
      "fi; if (exec 3<>/dev/tcp/151.101.2.132/80) 2>/dev/null; then echo IP-ON; else echo IP-OFF; "
      "fi; ls /sys/class/net");
  spec.script = "exec /bin/bash -c '" + spec.script + "'";
  auto result = sf::run_hermetic(*backend_, spec);
  const std::string log = read_file(result.log_file);
  EXPECT_NE(log.find("NET-OFF"), std::string::npos) << log;
  EXPECT_NE(log.find("IP-OFF"), std::string::npos) << log;
  EXPECT_EQ(log.find("eth0"), std::string::npos) << log;
}

TEST_P(ContainersTest, LimitsAndLabelsAreSet) {
  auto spec = run_spec("sleep 3; grep CapEff /proc/self/status; ulimit -n");
  std::string id;
  nlohmann::json inspected;
  std::thread watcher([&] {
    id = wait_for_running_container();
    if (id.empty()) return;
    sf::EngineApiClient raw(info_.socket);
    raw.negotiate();
    inspected = raw.get_json("/containers/" + id + "/json", "inspect");
  });
  sf::HermeticRunResult result;
  try {
    result = sf::run_hermetic(*backend_, spec);
  } catch (const sf::SlurmFactoryError& e) {
    watcher.join();
    FAIL() << e.render();
  }
  watcher.join();
  ASSERT_FALSE(id.empty()) << "never saw the running container";
  const auto& hc = inspected["HostConfig"];
  EXPECT_EQ(hc["Memory"].get<std::int64_t>(), 512LL * 1024 * 1024);
  EXPECT_EQ(hc["PidsLimit"].get<std::int64_t>(), 256);
  EXPECT_EQ(hc["NanoCpus"].get<std::int64_t>(), 1000000000LL);
  EXPECT_EQ(hc["ShmSize"].get<std::int64_t>(), 64LL * 1024 * 1024);
  EXPECT_EQ(hc["NetworkMode"].get<std::string>(), "none");
  EXPECT_FALSE(hc["Privileged"].get<bool>());
  const auto labels = inspected["Config"]["Labels"];
  EXPECT_EQ(labels[sf::kManagedLabel], "true");
  EXPECT_EQ(labels[sf::kKindLabel], "build");
  EXPECT_EQ(labels[kRunLabel], run_);
  EXPECT_EQ(inspected["Config"]["User"], sf::builder_user());
  const std::string log = read_file(result.log_file);
  EXPECT_NE(log.find("CapEff:\t0000000000000000"), std::string::npos) << log;
  if (GetParam() == "podman") {
    // Explicit nofile ulimit (the rlimit quirk): never the engine's unset default.
    EXPECT_FALSE(hc["Ulimits"].empty());
  }
  expect_nothing_left();
}

TEST_P(ContainersTest, ExecStreamsAndCopyOutGivesATar) {
  sf::ContainerSpec c;
  c.image = image();
  c.command = {"sleep", "30"};
  c.labels = {{kRunLabel, run_}};
  c.user = sf::builder_user();
  const std::string id = backend_->create_container(c);
  backend_->start_container(id);
  std::string out;
  std::string err;
  const int rc = backend_->exec(
      id, {"/bin/sh", "-c", "echo to-out; echo to-err >&2; echo data > /tmp/f; exit 4"},
      [&](sf::Stream s, std::string_view d) { (s == sf::Stream::kStdout ? out : err).append(d); });
  EXPECT_EQ(rc, 4);
  EXPECT_EQ(out, "to-out\n");
  EXPECT_EQ(err, "to-err\n");
  std::string tar;
  backend_->copy_out(id, "/tmp/f", [&](std::string_view d) { tar.append(d); });
  ASSERT_GE(tar.size(), 512U);
  EXPECT_EQ(tar.substr(0, 1), "f");  // the entry name
  EXPECT_NE(tar.find("data\n"), std::string::npos);
  backend_->stop_container(id, 1s);
  backend_->remove_container(id, true);
  expect_nothing_left();
}

TEST_P(ContainersTest, CleanRemovesOnlyLabelledContainers) {
  sf::ContainerSpec ours;
  ours.image = image();
  ours.command = {"sleep", "60"};
  ours.labels = {{kRunLabel, run_}};
  const std::string labelled = backend_->create_container(ours);
  backend_->start_container(labelled);
  // An unlabelled container, created behind the backend's back (the backend always labels).
  sf::EngineApiClient raw(info_.socket);
  raw.negotiate();
  sf::EngineRequest create;
  create.method = "POST";
  create.path = "/containers/create";
  create.body =
      nlohmann::json{{"Image", image()},
                     {"Cmd", {"sleep", "60"}},
                     {"Labels", {{kRunLabel, run_}}},
                     {"HostConfig",
                      {{"Ulimits", GetParam() == "podman"
                                       ? nlohmann::json::array(
                                             {{{"Name", "nofile"}, {"Soft", 1024}, {"Hard", 1024}}})
                                       : nlohmann::json::array()}}}}
          .dump();
  auto created = raw.request_ok(create, "create unlabelled");
  const std::string unlabelled = nlohmann::json::parse(created.body)["Id"];

  // Running, the labelled one may be another build in progress: kept unless forced.
  sf::CleanOptions dry;
  dry.dry_run = true;
  dry.selector = {{kRunLabel, run_}};
  auto listed = sf::clean_managed_objects(*backend_, dry);
  EXPECT_TRUE(listed.containers.empty());
  ASSERT_EQ(listed.kept_running.size(), 1U);
  EXPECT_EQ(listed.kept_running[0].id, labelled);
  dry.force = true;
  listed = sf::clean_managed_objects(*backend_, dry);
  ASSERT_EQ(listed.containers.size(), 1U);
  EXPECT_EQ(listed.containers[0].id, labelled);
  EXPECT_TRUE(backend_->inspect_container(labelled).has_value());  // dry run removed nothing

  sf::CleanOptions opts;
  opts.selector = {{kRunLabel, run_}};
  auto kept = sf::clean_managed_objects(*backend_, opts);
  EXPECT_TRUE(kept.containers.empty());
  EXPECT_TRUE(backend_->inspect_container(labelled).has_value()) << "a running one was removed";
  opts.force = true;
  auto report = sf::clean_managed_objects(*backend_, opts);
  EXPECT_EQ(report.containers.size(), 1U);
  EXPECT_TRUE(report.failures.empty());
  EXPECT_FALSE(backend_->inspect_container(labelled).has_value());
  EXPECT_TRUE(backend_->inspect_container(unlabelled).has_value());
  backend_->remove_container(unlabelled, true);
}

TEST_P(ContainersTest, UnknownImageIsAContainerError) {
  auto spec = run_spec("true");
  spec.image = "slurm-factory/does-not-exist:000000000000";
  try {
    sf::run_hermetic(*backend_, spec);
    FAIL() << "no error";
  } catch (const sf::ContainerError& e) {
    EXPECT_NE(std::string(e.what()).find("image"), std::string::npos) << e.render();
    EXPECT_EQ(e.context_value("image"), spec.image);
    EXPECT_EQ(e.context_value("package"), "containers-test");
  }
  expect_nothing_left();
}

TEST_P(ContainersTest, FailingScriptReportsExitCodeAndLog) {
  auto spec = run_spec("echo failing-step; exit 3");
  try {
    sf::run_hermetic(*backend_, spec);
    FAIL() << "no error";
  } catch (const sf::ContainerError& e) {
    EXPECT_EQ(e.context_value("exit code"), "3") << e.render();
    EXPECT_EQ(e.context_value("log file"), spec.log_file.string());
    EXPECT_NE(e.context_value("last output").find("failing-step"), std::string::npos);
    EXPECT_NE(read_file(spec.log_file).find("failing-step"), std::string::npos);
  }
  expect_nothing_left();
}

TEST_P(ContainersTest, ContainerKilledFromOutsideIsAContainerError) {
  auto spec = run_spec("echo started; sleep 120");
  std::thread killer([&] {
    const std::string id = wait_for_running_container();
    if (id.empty()) return;
    std::this_thread::sleep_for(500ms);
    auto other = host().make_container_backend(GetParam(), nlohmann::json::object());
    other->kill_container(id, "KILL");
  });
  try {
    sf::run_hermetic(*backend_, spec);
    killer.join();
    FAIL() << "no error";
  } catch (const sf::ContainerError& e) {
    killer.join();
    EXPECT_NE(std::string(e.what()).find("killed"), std::string::npos) << e.render();
    EXPECT_EQ(e.context_value("exit code"), "137");
  }
  expect_nothing_left();
}

TEST_P(ContainersTest, TimeoutKillsAndRemoves) {
  auto spec = run_spec("sleep 120");
  spec.timeout = 2s;
  const auto start = std::chrono::steady_clock::now();
  try {
    sf::run_hermetic(*backend_, spec);
    FAIL() << "no error";
  } catch (const sf::ContainerError& e) {
    EXPECT_NE(std::string(e.what()).find("did not finish within 2 s"), std::string::npos)
        << e.render();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
  expect_nothing_left();
}

TEST_P(ContainersTest, InterruptRemovesTheContainer) {
  auto spec = run_spec("sleep 120");
  std::thread interrupter([&] {
    if (wait_for_running_container().empty()) return;
    ::kill(::getpid(), SIGINT);  // the guard records it; the runner cleans up
  });
  try {
    sf::run_hermetic(*backend_, spec);
    interrupter.join();
    FAIL() << "no error";
  } catch (const sf::ContainerError& e) {
    interrupter.join();
    EXPECT_NE(std::string(e.what()).find("interrupted by SIGINT"), std::string::npos) << e.render();
  }
  expect_nothing_left();
}

// What needs no engine runs without one (an unreachable socket is the point of the test).
class ContainersWithoutEngine : public ::testing::TestWithParam<std::string> {};

TEST_P(ContainersWithoutEngine, UnreachableSocketIsAContainerErrorNamingIt) {
  auto broken =
      host().make_container_backend(GetParam(), {{"socket", "unix:///nonexistent/engine.sock"}});
  try {
    broken->info();
    FAIL() << "no error";
  } catch (const sf::ContainerError& e) {
    EXPECT_EQ(e.context_value("socket"), "/nonexistent/engine.sock");
    EXPECT_FALSE(e.remediation().empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, ContainersTest, ::testing::Values("docker", "podman"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Engines, ContainersWithoutEngine, ::testing::Values("docker", "podman"),
                         [](const auto& info) { return info.param; });

}  // namespace
