// Timing helper for tests/bench/containers.sh: N hermetic create+start+run `true`+remove cycles
// through our own code (the backend plugin, the Engine-API client, sf::run_hermetic), the way a
// package build runs its container. Prints one line per cycle and a summary:
//   cycle SECONDS
//   median SECONDS
// With --phases, each cycle is instead done step by step through the backend (create, start, exec
// `true`, wait, remove) and the median of every step is printed, to see where the time goes.
// With --logs, the steps are run_hermetic's own (create, start, follow the logs of `true`, wait,
// inspect, remove).
// Usage: sf-hermetic-cycle docker|podman IMAGE [RUNS] [--phases | --logs]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "containers/hermetic_runner.hpp"
#include "plugin_host/plugin_host.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int usage() {
  std::cerr << "usage: sf-hermetic-cycle docker|podman IMAGE [RUNS] [--phases]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool phases_flag = std::find(args.begin(), args.end(), "--phases") != args.end();
  args.erase(std::remove(args.begin(), args.end(), "--phases"), args.end());
  const bool logs_mode = std::find(args.begin(), args.end(), "--logs") != args.end();
  args.erase(std::remove(args.begin(), args.end(), "--logs"), args.end());
  const bool phases = phases_flag || logs_mode;
  if (args.size() < 2) return usage();
  const std::string engine = args[0];
  const std::string image = args[1];
  const int runs = args.size() > 2 ? std::stoi(args[2]) : 10;
  try {
    sf::PluginHost host;
    host.load_file(fs::path(SF_BENCH_PLUGIN_DIR) / ("libsf-backend-" + engine + ".so"));
    auto backend = host.make_container_backend(engine, nlohmann::json::object());
    backend->info();  // connect and negotiate once, as the tool does before its first build
    const fs::path log = fs::temp_directory_path() / "sf-hermetic-cycle.log";

    if (!phases) {
      std::vector<double> times;
      for (int i = 0; i < runs; ++i) {
        sf::HermeticRunSpec spec;
        spec.image = image;
        spec.script = "true";
        spec.log_file = log;
        spec.labels["org.slurm-factory.bench"] = "hermetic-cycle";
        const auto t0 = Clock::now();
        sf::run_hermetic(*backend, spec);
        times.push_back(seconds_since(t0));
        std::printf("cycle %.4f\n", times.back());
      }
      std::printf("median %.4f\n", median(times));
      return 0;
    }

    std::map<std::string, std::vector<double>> steps;
    std::vector<double> totals;
    for (int i = 0; i < runs; ++i) {
      sf::ContainerSpec c;
      c.image = image;
      c.command =
          logs_mode ? std::vector<std::string>{"true"} : std::vector<std::string>{"sleep", "30"};
      c.user = sf::builder_user();
      c.network = sf::NetworkMode::kNone;
      c.drop_capabilities = true;
      c.pids_limit = 4096;
      c.labels["org.slurm-factory.bench"] = "hermetic-cycle";
      const auto start = Clock::now();
      auto t = Clock::now();
      const std::string id = backend->create_container(c);
      steps["1 create"].push_back(seconds_since(t));
      t = Clock::now();
      backend->start_container(id);
      steps["2 start"].push_back(seconds_since(t));
      if (logs_mode) {
        // run_hermetic's own sequence: the command is the script; follow its logs to the end.
        t = Clock::now();
        backend->stream_logs(
            id, [](sf::Stream, std::string_view) {}, std::chrono::seconds(30));
        steps["3 logs"].push_back(seconds_since(t));
        t = Clock::now();
        backend->wait_container(id, std::chrono::seconds(10));
        steps["4 wait"].push_back(seconds_since(t));
        t = Clock::now();
        backend->inspect_container(id);
        steps["4b inspect"].push_back(seconds_since(t));
      } else {
        t = Clock::now();
        backend->exec(id, {"true"}, [](sf::Stream, std::string_view) {});
        steps["3 exec true"].push_back(seconds_since(t));
        t = Clock::now();
        backend->kill_container(id, "KILL");
        backend->wait_container(id, std::chrono::seconds(10));
        steps["4 kill+wait"].push_back(seconds_since(t));
      }
      t = Clock::now();
      backend->remove_container(id, true);
      steps["5 remove"].push_back(seconds_since(t));
      totals.push_back(seconds_since(start));
    }
    for (const auto& [name, v] : steps) std::printf("%-12s %.4f\n", name.c_str(), median(v));
    std::printf("median %.4f\n", median(totals));
    return 0;
  } catch (const sf::SlurmFactoryError& e) {
    std::cerr << e.render() << "\n";
    return static_cast<int>(e.exit_code());
  }
}
