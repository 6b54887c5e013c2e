// The container operations of the Engine API backend: create, start, inspect, logs, exec, wait,
// copy out, stop, kill, remove, list.

#include <thread>

#include "engine_api/engine_api_backend.hpp"
#include "engine_api/engine_api_client.hpp"
#include "engine_api/log_frame_demuxer.hpp"
#include "engine_api_labels.hpp"

namespace sf {
namespace {

// How long stream_logs watches a just-started container stop before following its logs.
constexpr long kShortWaitMs = 60;

}  // namespace

std::string EngineApiBackend::create_container(const ContainerSpec& spec) {
  nlohmann::json mounts = nlohmann::json::array();
  for (const auto& m : spec.mounts) {
    mounts.push_back({{"Type", "bind"},
                      {"Source", m.source.string()},
                      {"Target", m.target},
                      {"ReadOnly", m.read_only}});
  }
  std::vector<Ulimit> ulimits = spec.ulimits;
  for (const auto& d : options_.default_ulimits) {
    bool named = false;
    for (const auto& u : ulimits) named = named || u.name == d.name;
    if (!named) ulimits.push_back(d);
  }
  nlohmann::json ul = nlohmann::json::array();
  for (const auto& u : ulimits)
    ul.push_back({{"Name", u.name}, {"Soft", u.soft}, {"Hard", u.hard}});

  nlohmann::json host{{"Mounts", mounts},
                      {"NetworkMode", spec.network == NetworkMode::kNone ? "none" : "default"},
                      {"Privileged", false},
                      {"Ulimits", ul}};
  if (spec.network == NetworkMode::kDefault && !client().is_podman())
    host["NetworkMode"] = "bridge";
  if (spec.cpus > 0) host["NanoCpus"] = static_cast<std::int64_t>(spec.cpus * 1e9);
  if (spec.memory_bytes > 0) {
    host["Memory"] = spec.memory_bytes;
    host["MemorySwap"] = spec.memory_bytes;  // no swap beyond the limit
  }
  if (spec.shm_bytes > 0) host["ShmSize"] = spec.shm_bytes;
  if (spec.pids_limit > 0) host["PidsLimit"] = spec.pids_limit;
  if (spec.drop_capabilities) {
    host["CapDrop"] = nlohmann::json::array({"ALL"});
    host["SecurityOpt"] = nlohmann::json::array({"no-new-privileges"});
  }
  nlohmann::json body{
      {"Image", spec.image}, {"Env", spec.env},      {"Labels", with_managed(spec.labels)},
      {"Tty", spec.tty},     {"AttachStdout", true}, {"AttachStderr", true},
      {"OpenStdin", false},  {"HostConfig", host}};
  if (!spec.command.empty()) body["Cmd"] = spec.command;
  if (!spec.entrypoint.empty()) body["Entrypoint"] = spec.entrypoint;
  if (!spec.user.empty()) body["User"] = spec.user;
  if (!spec.workdir.empty()) body["WorkingDir"] = spec.workdir;
  if (spec.network == NetworkMode::kNone) body["NetworkDisabled"] = true;

  EngineRequest req;
  req.method = "POST";
  req.path = "/containers/create";
  if (!spec.name.empty()) req.query = {{"name", spec.name}};
  req.body = body.dump();
  auto resp = client().request(req);
  if (!resp.ok()) {
    ErrorContext ctx{{"image", spec.image}};
    if (resp.status == 404) {
      ctx.emplace_back("engine says", resp.engine_message());
      ctx.emplace_back("socket", options_.socket);
      throw ContainerError("cannot create container: image not found", ctx,
                           "prepare the image first (slurm-factory toolchain prepare NAME) or "
                           "check its name");
    }
    client().throw_error(resp, "cannot create container", ctx);
  }
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  return j.value("Id", "");
}

void EngineApiBackend::start_container(const std::string& id) {
  EngineRequest req;
  req.method = "POST";
  req.path = "/containers/" + id + "/start";
  auto resp = client().request(req);
  if (resp.status == 304) return;  // already started
  if (!resp.ok()) client().throw_error(resp, "cannot start container", {{"container", id}});
}

std::optional<ContainerInfo> EngineApiBackend::inspect_container(const std::string& id) {
  EngineRequest req;
  req.path = "/containers/" + id + "/json";
  auto resp = client().request(req);
  // Podman inspecting a container whose process is exiting at that moment reads a /proc entry
  // that is gone ("read /proc/<pid>/cgroup: no such process", 500): a moment later the container
  // is stopped and inspect answers. Asked again a few times, never more than half a second.
  for (int attempt = 0;
       attempt < 25 && resp.status == 500 && resp.body.find("no such process") != std::string::npos;
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    resp = client().request(req);
  }
  if (resp.status == 404) return std::nullopt;
  if (!resp.ok()) client().throw_error(resp, "cannot inspect container", {{"container", id}});
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  ContainerInfo info;
  info.id = j.value("Id", "");
  info.name = j.value("Name", "");
  info.image = j.value("Image", "");
  if (j.contains("State") && j["State"].is_object()) {
    const auto& s = j["State"];
    info.state = s.value("Status", "");
    info.running = s.value("Running", false);
    info.exit_code = s.value("ExitCode", 0);
    info.oom_killed = s.value("OOMKilled", false);
  }
  if (j.contains("Config") && j["Config"].is_object()) {
    info.tty = j["Config"].value("Tty", false);
    info.labels = labels_of(j["Config"].value("Labels", nlohmann::json()));
  }
  return info;
}

bool EngineApiBackend::stream_logs(const std::string& id, const OutputSink& sink,
                                   std::chrono::milliseconds timeout) {
  auto info = inspect_container(id);
  if (!info) {
    throw ContainerError("cannot read logs: no such container",
                         {{"container", id}, {"socket", options_.socket}});
  }
  LogFrameDemuxer demux(sink, info->tty);
  // A short command has often finished by now. Following the logs of a stopped container costs
  // Podman a fixed poll interval (250 ms) before the stream ends; a wait of a few milliseconds
  // tells whether it stopped, and then one plain read gets the whole output.
  const auto settle = std::chrono::steady_clock::now() + std::chrono::milliseconds(kShortWaitMs);
  while (info && info->running && std::chrono::steady_clock::now() < settle) {
    // Inspect is a cheap answer on both engines (Podman's wait polls at 250 ms itself).
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    info = inspect_container(id);
  }
  const bool stopped = info && !info->running && info->state != "created";
  EngineRequest req;
  req.path = "/containers/" + id + "/logs";
  req.query = {{"follow", stopped ? "0" : "1"}, {"stdout", "1"}, {"stderr", "1"}};
  req.on_data = [&](std::string_view d) { demux.feed(d); };
  req.timeout = timeout;
  auto resp = client().request(req);
  if (resp.timed_out) return false;
  if (!resp.ok()) client().throw_error(resp, "cannot read container logs", {{"container", id}});
  return true;
}

int EngineApiBackend::exec(const std::string& id, const std::vector<std::string>& command,
                           const OutputSink& sink, const std::string& user,
                           const std::vector<std::string>& env) {
  nlohmann::json body{
      {"AttachStdout", true}, {"AttachStderr", true}, {"Tty", false}, {"Cmd", command}};
  if (!user.empty()) body["User"] = user;
  if (!env.empty()) body["Env"] = env;
  EngineRequest create;
  create.method = "POST";
  create.path = "/containers/" + id + "/exec";
  create.body = body.dump();
  auto created = client().request_ok(create, "cannot create exec", {{"container", id}});
  const std::string exec_id =
      nlohmann::json::parse(created.body, nullptr, false).value("Id", std::string{});

  LogFrameDemuxer demux(sink, false);
  EngineRequest start;
  start.method = "POST";
  start.path = "/exec/" + exec_id + "/start";
  start.body = nlohmann::json{{"Detach", false}, {"Tty", false}}.dump();
  start.on_data = [&](std::string_view d) { demux.feed(d); };
  client().request_ok(start, "cannot start exec", {{"container", id}});

  auto j = client().get_json("/exec/" + exec_id + "/json", "cannot inspect exec");
  if (j.contains("ExitCode") && j["ExitCode"].is_number_integer()) return j["ExitCode"].get<int>();
  return -1;
}

WaitResult EngineApiBackend::wait_container(const std::string& id,
                                            std::chrono::milliseconds timeout) {
  EngineRequest req;
  req.method = "POST";
  req.path = "/containers/" + id + "/wait";
  req.query = {{"condition", "not-running"}};
  req.timeout = timeout;
  auto resp = client().request(req);
  WaitResult result;
  if (resp.timed_out) {
    result.timed_out = true;
    return result;
  }
  if (!resp.ok()) client().throw_error(resp, "cannot wait for container", {{"container", id}});
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  result.exit_code = j.is_object() ? j.value("StatusCode", -1) : -1;
  return result;
}

void EngineApiBackend::copy_out(const std::string& id, const std::string& path,
                                const ByteSink& sink) {
  EngineRequest req;
  req.path = "/containers/" + id + "/archive";
  req.query = {{"path", path}};
  req.on_data = [&](std::string_view d) { sink(d); };
  client().request_ok(req, "cannot copy out of container", {{"container", id}, {"path", path}});
}

void EngineApiBackend::stop_container(const std::string& id, std::chrono::seconds grace) {
  EngineRequest req;
  req.method = "POST";
  req.path = "/containers/" + id + "/stop";
  req.query = {{"t", std::to_string(grace.count())}};
  auto resp = client().request(req);
  if (resp.status == 304 || resp.status == 404) return;
  if (!resp.ok()) client().throw_error(resp, "cannot stop container", {{"container", id}});
}

void EngineApiBackend::kill_container(const std::string& id, const std::string& signal) {
  EngineRequest req;
  req.method = "POST";
  req.path = "/containers/" + id + "/kill";
  req.query = {{"signal", signal}};
  auto resp = client().request(req);
  if (resp.status == 404 || resp.status == 409) return;  // gone or not running
  if (!resp.ok()) client().throw_error(resp, "cannot kill container", {{"container", id}});
}

void EngineApiBackend::remove_container(const std::string& id, bool force) {
  EngineRequest req;
  req.method = "DELETE";
  req.path = "/containers/" + id;
  req.query = {{"force", force ? "1" : "0"}, {"v", "1"}};
  auto resp = client().request(req);
  if (resp.status == 404) return;
  if (!resp.ok()) client().throw_error(resp, "cannot remove container", {{"container", id}});
}

std::vector<ContainerSummary> EngineApiBackend::list_containers(const Labels& labels) {
  auto j = client().get_json("/containers/json", "cannot list containers",
                             {{"all", "1"}, {"filters", label_filters(labels)}});
  std::vector<ContainerSummary> out;
  for (const auto& c : j) {
    ContainerSummary s;
    s.id = c.value("Id", "");
    s.names = strings_of(c.value("Names", nlohmann::json::array()));
    s.image = c.value("Image", "");
    s.state = c.value("State", "");
    s.labels = labels_of(c.value("Labels", nlohmann::json()));
    // Filters are applied by the engine; check again so a lenient engine cannot widen them.
    if (labels_match(s.labels, labels)) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sf
