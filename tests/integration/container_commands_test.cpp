// The container commands through the CLI entry point (sf::cli::run) and the real binary, against
// real engines, the same suite for docker and podman: `toolchain prepare` twice (the second reuses
// the image in under a second), `clean` (removes labelled containers, leaves an unlabelled one
// alone), `toolchain run` (exit code passed through, network off, builder user), and SIGINT /
// SIGTERM on the binary (exit 130 / 143, the container removed). The shipped bookworm toolchain
// is used; its bootstrap rootfs is cached in <build>/containers-test-cache (shared with
// integration_containers). A test skips, with one line, only when its engine does not answer.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "../support/requirement.hpp"
#include "cli/cli.hpp"
#include "engine_api/engine_api_client.hpp"
#include "plugin_host/plugin_host.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const fs::path kCacheDir = fs::path(SF_TEST_BINARY_DIR) / "containers-test-cache";
const fs::path kBinary = fs::path(SF_TEST_BINARY_DIR) / "bin" / "slurm-factory";
constexpr const char* kTestLabel = "org.slurm-factory.test-run";

struct Result {
  int code = -1;
  std::string out;
  std::string err;
  double seconds = 0;
};

Result sf_run(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  Result r;
  const auto t0 = std::chrono::steady_clock::now();
  r.code = sf::cli::run(args, out, err);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.out = out.str();
  r.err = err.str();
  return r;
}

sf::PluginHost& host() {
  static sf::PluginHost h;
  static std::once_flag once;
  std::call_once(once, [] {
    h.load_file(fs::path(SF_TEST_PLUGIN_DIR) / "libsf-backend-docker.so");
    h.load_file(fs::path(SF_TEST_PLUGIN_DIR) / "libsf-backend-podman.so");
  });
  return h;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ContainerCommands : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend_ = host().make_container_backend(GetParam(), nlohmann::json::object());
    try {
      info_ = backend_->info();
      engine_answers_ = true;
    } catch (const sf::ContainerError& e) {
      if (!needs_engine_) {
        // The test checks what the CLI says before it talks to an engine: it runs everywhere.
      } else
        SF_REQUIRE_OR_SKIP(GetParam() << " does not answer: " << e.what() << " ("
                                      << e.context_value("socket") << ")");
    }
    run_ = std::to_string(::getpid()) + "-" + GetParam() + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (auto& c : run_) {
      if (c == '/') c = '-';
    }
    dir_ = fs::temp_directory_path() / ("sf-container-commands-" + run_);
    fs::create_directories(dir_);
    // A private HOME: no user config of the machine leaks in; plugins from the build tree.
    ::setenv("HOME", dir_.c_str(), 1);
    ::setenv("SLURM_FACTORY_PLUGIN_PATH", SF_TEST_PLUGIN_DIR, 1);
    ::unsetenv("SLURM_FACTORY_CACHE_DIR");
    config_ = (dir_ / "config.yaml").string();
    std::ofstream(config_) << "cache_dir: " << kCacheDir.string() << "\nbackend: " << GetParam()
                           << "\n";
  }

  void TearDown() override {
    if (backend_ && engine_answers_ && !run_.empty()) {
      for (const auto& c : backend_->list_containers({{kTestLabel, run_}})) {
        backend_->remove_container(c.id, true);
      }
    }
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // `toolchain prepare bookworm` through the CLI; the image tag.
  std::string prepare() {
    const auto r = sf_run({"--config", config_, "--json", "toolchain", "prepare", "bookworm"});
    EXPECT_EQ(r.code, 0) << r.err;
    if (r.code != 0) return {};
    return nlohmann::json::parse(r.out).at("image").get<std::string>();
  }

  // A running container that carries no label of ours, created behind the backend's back.
  std::string unlabelled_container(const std::string& image) {
    sf::EngineApiClient raw(info_.socket);
    raw.negotiate();
    sf::EngineRequest create;
    create.method = "POST";
    create.path = "/containers/create";
    nlohmann::json ulimits = nlohmann::json::array();
    if (GetParam() == "podman") {  // podman as root: explicit rlimits or runc fails
      ulimits = {{{"Name", "nofile"}, {"Soft", 1024}, {"Hard", 1024}},
                 {{"Name", "nproc"}, {"Soft", 1024}, {"Hard", 1024}}};
    }
    create.body = nlohmann::json{{"Image", image},
                                 {"Cmd", {"sleep", "120"}},
                                 {"Labels", {{kTestLabel, run_}}},
                                 {"HostConfig", {{"NetworkMode", "none"}, {"Ulimits", ulimits}}}}
                      .dump();
    auto created = raw.request_ok(create, "create unlabelled");
    const std::string id = nlohmann::json::parse(created.body)["Id"];
    sf::EngineRequest start;
    start.method = "POST";
    start.path = "/containers/" + id + "/start";
    raw.request_ok(start, "start unlabelled");
    return id;
  }

  std::string labelled_container(const std::string& image, std::vector<std::string> command,
                                 const sf::Labels& extra = {}) {
    sf::ContainerSpec spec;
    spec.image = image;
    spec.command = std::move(command);
    spec.labels = extra;
    spec.labels[kTestLabel] = run_;
    const std::string id = backend_->create_container(spec);
    backend_->start_container(id);
    return id;
  }

  std::unique_ptr<sf::ContainerBackend> backend_;
  sf::EngineInfo info_;
  std::string run_;
  fs::path dir_;
  std::string config_;
  bool needs_engine_ = true;  // false: the test needs no engine (runs without one)
  bool engine_answers_ = false;
};

// Usage errors the CLI reports before it talks to an engine: these run with no engine at all.
class ContainerCommandsWithoutEngine : public ContainerCommands {
 protected:
  ContainerCommandsWithoutEngine() { needs_engine_ = false; }
};

TEST_P(ContainerCommands, PrepareTwiceSecondReusesInUnderOneSecond) {
  const auto first = sf_run({"--config", config_, "--json", "toolchain", "prepare", "bookworm"});
  ASSERT_EQ(first.code, 0) << first.err;
  const auto a = nlohmann::json::parse(first.out);
  EXPECT_EQ(a.at("backend"), GetParam());
  EXPECT_EQ(a.at("toolchain"), "bookworm");
  EXPECT_EQ(a.at("image").get<std::string>().rfind("slurm-factory/toolchain-bookworm:", 0), 0U);
  EXPECT_EQ(first.err.find("  | "), std::string::npos) << "--json shows no build output";

  const auto second = sf_run({"--config", config_, "toolchain", "prepare", "bookworm"});
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_EQ(second.out.rfind("reused " + a.at("image").get<std::string>() + " (" + GetParam(), 0),
            0U)
      << second.out;
  EXPECT_LT(second.seconds, 1.0) << "a second prepare must reuse the image at once";

  const auto third = sf_run({"--config", config_, "--json", "toolchain", "prepare", "bookworm"});
  ASSERT_EQ(third.code, 0) << third.err;
  const auto c = nlohmann::json::parse(third.out);
  EXPECT_TRUE(c.at("reused").get<bool>());
  EXPECT_EQ(c.at("image"), a.at("image"));
  EXPECT_EQ(c.at("hash"), a.at("hash"));
}

TEST_P(ContainerCommandsWithoutEngine, PrepareUnknownToolchainIsAUsageError) {
  const auto r = sf_run({"--config", config_, "toolchain", "prepare", "no-such-release"});
  EXPECT_EQ(r.code, static_cast<int>(sf::ExitCode::kUsage)) << r.err;
  EXPECT_NE(r.err.find("no-such-release"), std::string::npos) << r.err;
}

TEST_P(ContainerCommands, CleanRemovesLabelledAndLeavesAnUnlabelledContainerAlone) {
  const std::string image = prepare();
  ASSERT_FALSE(image.empty());
  const std::string ours = labelled_container(image, {"true"});
  ASSERT_EQ(backend_->wait_container(ours, std::chrono::seconds(60)).exit_code, 0);
  const std::string theirs = unlabelled_container(image);
  const std::string only_this_test = std::string(kTestLabel) + "=" + run_;

  const auto dry = sf_run({"--config", config_, "clean", "--dry-run", "--label", only_this_test});
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would remove container " + ours.substr(0, 12)), std::string::npos)
      << dry.out;
  EXPECT_EQ(dry.out.find(theirs.substr(0, 12)), std::string::npos) << dry.out;
  EXPECT_TRUE(backend_->inspect_container(ours).has_value()) << "a dry run removes nothing";

  // Unrestricted, as a user runs it: it never touches a container without our label, and keeps
  // every running one (other builds on this engine), so the whole engine is safe to clean.
  const auto all_dry = sf_run({"--config", config_, "--json", "clean", "--dry-run"});
  ASSERT_EQ(all_dry.code, 0) << all_dry.err;
  const auto listed = nlohmann::json::parse(all_dry.out);
  bool saw_ours = false;
  for (const auto& id : listed.at("containers")) {
    EXPECT_NE(id.get<std::string>(), theirs) << "clean would remove an unlabelled container";
    saw_ours = saw_ours || id.get<std::string>() == ours;
  }
  EXPECT_TRUE(saw_ours);
  for (const auto& id : listed.at("kept_running")) {
    EXPECT_NE(id.get<std::string>(), theirs) << "clean lists an unlabelled container";
  }

  const auto real = sf_run({"--config", config_, "clean"});
  ASSERT_EQ(real.code, 0) << real.err;
  EXPECT_NE(real.out.find("removed container " + ours.substr(0, 12)), std::string::npos)
      << real.out;
  EXPECT_FALSE(backend_->inspect_container(ours).has_value());
  ASSERT_TRUE(backend_->inspect_container(theirs).has_value()) << "clean removed a stranger";
  EXPECT_TRUE(backend_->inspect_container(theirs)->running);
  // The image is still there (no --full).
  EXPECT_TRUE(backend_->image_exists(image));

  const auto again = sf_run({"--config", config_, "clean", "--dry-run", "--label", only_this_test});
  EXPECT_NE(again.out.find("nothing to remove on " + GetParam()), std::string::npos) << again.out;
  backend_->remove_container(theirs, true);
}

// A running container of ours may be another slurm-factory's build in progress: clean keeps it
// and names it (with its build id); --force removes it.
TEST_P(ContainerCommands, CleanKeepsARunningContainerUnlessForced) {
  const std::string image = prepare();
  ASSERT_FALSE(image.empty());
  const std::string running =
      labelled_container(image, {"sleep", "120"}, {{sf::kBuildIdLabel, "20261206T105302Z-3656"}});
  const std::string only_this_test = std::string(kTestLabel) + "=" + run_;

  const auto kept = sf_run({"--config", config_, "clean", "--label", only_this_test});
  ASSERT_EQ(kept.code, 0) << kept.err;
  EXPECT_NE(kept.out.find("kept running container " + running.substr(0, 12)), std::string::npos)
      << kept.out;
  EXPECT_NE(kept.out.find("build 20261206T105302Z-3656"), std::string::npos) << kept.out;
  EXPECT_NE(kept.out.find("--force"), std::string::npos) << kept.out;
  EXPECT_EQ(kept.out.find("removed container"), std::string::npos) << kept.out;
  ASSERT_TRUE(backend_->inspect_container(running).has_value()) << "clean removed a running build";
  EXPECT_TRUE(backend_->inspect_container(running)->running);

  const auto json =
      sf_run({"--config", config_, "--json", "clean", "--dry-run", "--label", only_this_test});
  ASSERT_EQ(json.code, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out).at("kept_running"), nlohmann::json::array({running}))
      << json.out;

  const auto forced = sf_run({"--config", config_, "clean", "--force", "--label", only_this_test});
  ASSERT_EQ(forced.code, 0) << forced.err;
  EXPECT_NE(forced.out.find("removed container " + running.substr(0, 12)), std::string::npos)
      << forced.out;
  EXPECT_FALSE(backend_->inspect_container(running).has_value());
}

// clean --full also lists the compiler cache folders (build.ccache) of toolchain images no longer
// on the engine, and keeps those of images that are there; a dry run removes nothing.
TEST_P(ContainerCommands, CleanFullListsCompilerCachesOfImagesThatAreGone) {
  // An image of ours that is on the engine (any toolchain image: its tag holds hash12).
  std::string hash;
  for (const auto& i : backend_->list_images({{sf::kManagedImageLabel, "true"}})) {
    for (const auto& t : i.tags) {
      const auto colon = t.rfind(':');
      if (t.find("/toolchain-") != std::string::npos && colon != std::string::npos) {
        hash = t.substr(colon + 1);
      }
    }
  }
  if (hash.size() != 12) hash = prepare().substr(prepare().rfind(':') + 1);
  ASSERT_EQ(hash.size(), 12U);
  hash += std::string(52, 'a');  // the folder of an image is named by its full hash
  const fs::path cache = dir_ / "cache";
  const fs::path live = cache / "ccache" / hash;
  const fs::path gone = cache / "ccache" / std::string(64, 'e');
  for (const auto& d : {live, gone}) {
    fs::create_directories(d / "0");
    std::ofstream(d / "0" / "obj") << "o";
  }
  const std::string config = (dir_ / "ccache-config.yaml").string();
  std::ofstream(config) << "cache_dir: " << cache.string() << "\nbackend: " << GetParam() << "\n";
  // Narrowed to this test's label: no image is removed, every one of ours stays "live".
  const std::string only_this_test = std::string(kTestLabel) + "=" + run_;
  const auto dry = sf_run(
      {"--config", config, "--json", "clean", "--full", "--dry-run", "--label", only_this_test});
  ASSERT_EQ(dry.code, 0) << dry.err;
  const auto listed = nlohmann::json::parse(dry.out).at("ccache");
  EXPECT_EQ(listed, nlohmann::json::array({gone.string()})) << dry.out;
  EXPECT_TRUE(fs::exists(gone / "0" / "obj")) << "a dry run removes nothing";

  const auto real = sf_run({"--config", config, "clean", "--full", "--label", only_this_test});
  ASSERT_EQ(real.code, 0) << real.err;
  EXPECT_NE(real.out.find("removed compiler cache " + gone.string()), std::string::npos)
      << real.out;
  EXPECT_FALSE(fs::exists(gone));
  EXPECT_TRUE(fs::exists(live / "0" / "obj"));
}

TEST_P(ContainerCommandsWithoutEngine, CleanRejectsAnEmptyLabel) {
  const auto r = sf_run({"--config", config_, "clean", "--dry-run", "--label", "=x"});
  EXPECT_EQ(r.code, static_cast<int>(sf::ExitCode::kUsage)) << r.err;
}

TEST_P(ContainerCommands, ToolchainRunPassesTheExitCodeAsTheBuilderWithoutNetwork) {
  ASSERT_FALSE(prepare().empty());
  const auto r = sf_run({"--config", config_, "--json", "toolchain", "run", "bookworm", "--",
                         "id -u; cat /sys/class/net/*/operstate | sort -u | tr '\\n' ' '; "
                         "ls /sys/class/net; exit 7"});
  EXPECT_EQ(r.code, 7) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("exit_code"), 7);
  const std::string log = read_file(j.at("log_file").get<std::string>());
  EXPECT_NE(log.find("10001"), std::string::npos) << log;
  EXPECT_EQ(log.find("eth0"), std::string::npos) << "network must be off: " << log;
  fs::remove(j.at("log_file").get<std::string>());

  const auto ok = sf_run({"--config", config_, "-q", "toolchain", "run", "bookworm", "--", "true"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_TRUE(ok.err.empty()) << "-q shows nothing: " << ok.err;

  const auto usage = sf_run({"--config", config_, "toolchain", "run", "bookworm"});
  EXPECT_EQ(usage.code, static_cast<int>(sf::ExitCode::kUsage));
}

// SIGINT / SIGTERM on the real binary while its container runs: the container is removed and the
// tool exits 130 / 143.
TEST_P(ContainerCommands, InterruptRemovesTheContainerAndExits128PlusSignal) {
  ASSERT_FALSE(prepare().empty());
  ASSERT_TRUE(fs::exists(kBinary)) << "build the slurm-factory target first: " << kBinary;
  for (const int sig : {SIGINT, SIGTERM}) {
    const fs::path err_file = dir_ / ("stderr-" + std::to_string(sig));
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const int fd = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, STDERR_FILENO);
      ::dup2(fd, STDOUT_FILENO);
      const std::string marker = "sf-interrupt-" + run_;
      ::execl(kBinary.c_str(), kBinary.c_str(), "--config", config_.c_str(), "toolchain", "run",
              "bookworm", "--", "echo started; sleep 120", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Wait until the script runs (its first line reached the terminal stream).
    bool started = false;
    for (int i = 0; i < 600 && !started; ++i) {
      std::this_thread::sleep_for(100ms);
      started = read_file(err_file).find("started") != std::string::npos;
    }
    ASSERT_TRUE(started) << read_file(err_file);
    ASSERT_EQ(::kill(pid, sig), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "the tool died of the signal instead of handling it";
    EXPECT_EQ(WEXITSTATUS(status), 128 + sig) << read_file(err_file);
    const std::string err = read_file(err_file);
    EXPECT_NE(err.find(sig == SIGINT ? "interrupted by SIGINT" : "interrupted by SIGTERM"),
              std::string::npos)
        << err;
    const auto at = err.find("container: ");
    ASSERT_NE(at, std::string::npos) << err;
    const std::string id = err.substr(at + 11, 12);
    EXPECT_FALSE(backend_->inspect_container(id).has_value()) << "container " << id << " left";
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, ContainerCommands, ::testing::Values("docker", "podman"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Engines, ContainerCommandsWithoutEngine,
                         ::testing::Values("docker", "podman"),
                         [](const auto& info) { return info.param; });

}  // namespace
