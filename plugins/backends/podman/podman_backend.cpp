// The podman container backend: the shared Engine-API backend on Podman's compat API.
// Socket: settings.socket, CONTAINER_HOST (unix://PATH), $XDG_RUNTIME_DIR/podman/podman.sock, or
// /run/podman/podman.sock. When none answers, it starts `podman system service --time=0` on the
// default socket itself, waits for it, and stops it when the backend goes away.
// Quirk: as root, Podman's default rlimits make runc fail ("error setting rlimit type 7"), so every
// container gets explicit nofile and nproc ulimits no higher than this process's hard limits.
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "engine_api/engine_api_backend.hpp"
#include "slurm_factory/environment.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace bp = boost::process;

namespace {

using sf::env;

std::int64_t hard_limit(int resource, std::int64_t wanted) {
  rlimit rl{};
  if (getrlimit(resource, &rl) != 0 || rl.rlim_max == RLIM_INFINITY) return wanted;
  return std::min<std::int64_t>(wanted, static_cast<std::int64_t>(rl.rlim_max));
}

class PodmanBackend : public sf::EngineApiBackend {
 public:
  PodmanBackend(sf::EngineApiOptions options, std::vector<std::string> candidates,
                bool may_start_service)
      : sf::EngineApiBackend(std::move(options)),
        candidates_(std::move(candidates)),
        may_start_service_(may_start_service) {}

  ~PodmanBackend() override {
    if (service_ && service_->running()) {
      std::error_code ec;
      ::kill(service_->id(), SIGTERM);
      if (!service_->wait_for(std::chrono::seconds(5), ec)) service_->terminate(ec);
    }
  }
  PodmanBackend(const PodmanBackend&) = delete;
  PodmanBackend& operator=(const PodmanBackend&) = delete;

 protected:
  void before_connect() override {
    for (const auto& s : candidates_) {
      if (sf::engine_socket_answers(s, std::chrono::seconds(3))) {
        mutable_options().socket = s;
        return;
      }
    }
    const std::string socket = mutable_options().socket;
    if (!may_start_service_) return;  // an explicit socket: report it as unreachable
    const auto podman = bp::search_path("podman");
    if (podman.empty()) {
      throw sf::ContainerError("no podman service answers and podman is not installed",
                               {{"socket", socket}}, "install podman (apt-get install podman)");
    }
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(socket).parent_path(), ec);
    sf::log().info("podman: no service answers; starting `podman system service` on {}", socket);
    // Started in "/": conmon inherits the service's working directory and fails every container
    // start ("Failed to get working directory") once that directory is removed.
    service_.emplace(podman, "system", "service", "--time=0", "unix://" + socket,
                     bp::start_dir("/"), bp::std_out > bp::null, bp::std_err > bp::null,
                     bp::std_in < bp::null);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (sf::engine_socket_answers(socket, std::chrono::seconds(1))) return;
      if (!service_->running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw sf::ContainerError("started `podman system service` but its socket does not answer",
                             {{"socket", socket}, {"binary", podman.string()}},
                             "run `podman system service --time=0` by hand to see its error");
  }

 private:
  std::vector<std::string> candidates_;
  bool may_start_service_;
  std::optional<bp::child> service_;
};

void register_plugin(sf::Registry& registry) {
  registry.add_container_backend("podman", [](const nlohmann::json& settings) {
    sf::EngineApiOptions options;
    options.engine = "podman";
    std::vector<std::string> candidates;
    bool may_start = true;
    if (settings.is_object() && settings.contains("socket") && settings["socket"].is_string()) {
      const std::string s = settings["socket"].get<std::string>();
      const std::string path = sf::unix_socket_from_url(s);
      candidates.push_back(path.empty() ? s : path);
      may_start = false;
    } else if (!env("CONTAINER_HOST").empty()) {
      const std::string path = sf::unix_socket_from_url(env("CONTAINER_HOST"));
      if (path.empty()) {
        throw sf::ContainerError("CONTAINER_HOST is not a unix socket URL",
                                 {{"CONTAINER_HOST", env("CONTAINER_HOST")}},
                                 "set CONTAINER_HOST=unix:///path/to/podman.sock");
      }
      candidates.push_back(path);
      may_start = false;
    } else {
      if (!env("XDG_RUNTIME_DIR").empty()) {
        candidates.push_back(env("XDG_RUNTIME_DIR") + "/podman/podman.sock");
      }
      candidates.emplace_back("/run/podman/podman.sock");
    }
    // The socket the service is started on when nothing answers: root's, else the user's.
    options.socket = candidates.front();
    if (may_start && ::geteuid() == 0) options.socket = "/run/podman/podman.sock";
    const std::int64_t nofile = hard_limit(RLIMIT_NOFILE, 1048576);
    // The service's own nproc limit may be lower than ours (seen: 32768 under a 96365 hard limit,
    // runc then fails with "rlimit type 6"); the pids limit bounds builds anyway.
    const std::int64_t nproc = hard_limit(RLIMIT_NPROC, 32768);
    options.default_ulimits = {{"nofile", nofile, nofile}, {"nproc", nproc, nproc}};
    return std::make_unique<PodmanBackend>(std::move(options), std::move(candidates), may_start);
  });
}

}  // namespace

SLURM_FACTORY_PLUGIN("backend-podman", "1.0.0", "Podman (compat Engine API) container backend",
                     register_plugin)
