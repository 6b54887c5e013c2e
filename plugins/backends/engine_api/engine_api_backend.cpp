// The ContainerBackend operations over the Engine API (Docker API 1.40+ / Podman's compat API).
#include "engine_api/engine_api_backend.hpp"

#include <spdlog/spdlog.h>

#include <deque>
#include <thread>

#include "engine_api/engine_api_client.hpp"
#include "engine_api/log_frame_demuxer.hpp"
#include "engine_api/registry_auth.hpp"
#include "slurm_factory/log.hpp"

namespace sf {
namespace {

// How long stream_logs watches a just-started container stop before following its logs.
constexpr long kShortWaitMs = 60;

using Query = std::vector<std::pair<std::string, std::string>>;

// Splits the engine's stream of JSON messages (one per line) across chunk boundaries and keeps
// the last lines for error messages.
class JsonMessageStream {
 public:
  explicit JsonMessageStream(ProgressSink progress) : progress_(std::move(progress)) {}

  void feed(std::string_view chunk) {
    buffer_.append(chunk);
    std::size_t pos = 0;
    while (true) {
      const auto nl = buffer_.find('\n', pos);
      if (nl == std::string::npos) break;
      handle(std::string_view(buffer_).substr(pos, nl - pos));
      pos = nl + 1;
    }
    buffer_.erase(0, pos);
  }
  void finish() {
    if (!buffer_.empty()) handle(buffer_);
    buffer_.clear();
  }

  const std::string& error() const { return error_; }
  const std::string& aux_id() const { return aux_id_; }
  const std::string& last_status() const { return last_status_; }
  std::string tail() const {
    std::string out;
    for (const auto& l : tail_) out += l + "\n";
    return out;
  }

 private:
  void emit(std::string line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.empty()) return;
    if (progress_) progress_(line);
    tail_.push_back(line);
    if (tail_.size() > 20) tail_.pop_front();
  }

  void handle(std::string_view raw) {
    while (!raw.empty() && (raw.back() == '\r' || raw.back() == ' ')) raw.remove_suffix(1);
    if (raw.empty()) return;
    auto j = nlohmann::json::parse(raw, nullptr, false);
    if (!j.is_object()) {
      emit(std::string(raw));
      return;
    }
    if (j.contains("error") && j["error"].is_string()) {
      error_ = j["error"].get<std::string>();
      emit("error: " + error_);
      return;
    }
    if (j.contains("errorDetail") && j["errorDetail"].is_object()) {
      error_ = j["errorDetail"].value("message", "unknown error");
      emit("error: " + error_);
      return;
    }
    if (j.contains("aux") && j["aux"].is_object() && j["aux"].contains("ID")) {
      aux_id_ = j["aux"]["ID"].get<std::string>();
      return;
    }
    if (j.contains("stream") && j["stream"].is_string()) {
      // A build step's output may hold several lines.
      std::string s = j["stream"].get<std::string>();
      std::size_t pos = 0;
      while (pos < s.size()) {
        auto nl = s.find('\n', pos);
        if (nl == std::string::npos) nl = s.size();
        emit(s.substr(pos, nl - pos));
        pos = nl + 1;
      }
      return;
    }
    if (j.contains("status") && j["status"].is_string()) {
      last_status_ = j["status"].get<std::string>();
      std::string line = last_status_;
      if (j.contains("id") && j["id"].is_string()) line = j["id"].get<std::string>() + ": " + line;
      if (j.contains("progress") && j["progress"].is_string()) {
        line += " " + j["progress"].get<std::string>();
      }
      emit(line);
      return;
    }
    if (j.contains("id") && j["id"].is_string()) last_status_ = j["id"].get<std::string>();
  }

  ProgressSink progress_;
  std::string buffer_;
  std::string error_;
  std::string aux_id_;
  std::string last_status_;
  std::deque<std::string> tail_;
};

std::string label_filters(const Labels& labels) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& [k, v] : labels) arr.push_back(v.empty() ? k : k + "=" + v);
  return nlohmann::json{{"label", arr}}.dump();
}

Labels labels_of(const nlohmann::json& j) {
  Labels out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

std::vector<std::string> strings_of(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

Labels with_managed(Labels labels) {
  labels[kManagedLabel] = "true";
  return labels;
}

Labels with_managed_image(Labels labels) {
  labels[kManagedImageLabel] = "true";
  return labels;
}

}  // namespace

std::string unix_socket_from_url(const std::string& url) {
  const std::string prefix = "unix://";
  if (url.rfind(prefix, 0) != 0) return {};
  return url.substr(prefix.size());
}

EngineApiBackend::EngineApiBackend(EngineApiOptions options) : options_(std::move(options)) {}
EngineApiBackend::~EngineApiBackend() = default;

std::string EngineApiBackend::name() const { return options_.engine; }

EngineApiClient& EngineApiBackend::client() {
  if (!client_) {
    before_connect();
    auto c = std::make_unique<EngineApiClient>(options_.socket);
    try {
      c->negotiate();
    } catch (SlurmFactoryError& e) {
      e.with("backend", options_.engine);
      throw;
    }
    client_ = std::move(c);
  }
  return *client_;
}

EngineInfo EngineApiBackend::info() {
  auto& c = client();
  const auto& v = c.version_info();
  return EngineInfo{options_.engine, v.value("Version", ""), c.api_version(),
                    options_.socket, v.value("Os", ""),      v.value("Arch", "")};
}

// --- images ---

std::optional<ImageInfo> EngineApiBackend::inspect_image(const std::string& reference) {
  EngineRequest req;
  req.path = "/images/" + reference + "/json";
  auto resp = client().request(req);
  if (resp.status == 404) return std::nullopt;
  if (!resp.ok()) client().throw_error(resp, "cannot inspect image", {{"image", reference}});
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  ImageInfo info;
  info.id = j.value("Id", "");
  info.tags = strings_of(j.value("RepoTags", nlohmann::json::array()));
  if (j.contains("Config") && j["Config"].is_object())
    info.labels = labels_of(j["Config"].value("Labels", nlohmann::json()));
  info.os = j.value("Os", "");
  info.arch = j.value("Architecture", "");
  info.size = j.value("Size", std::int64_t{0});
  return info;
}

bool EngineApiBackend::image_exists(const std::string& reference) {
  return inspect_image(reference).has_value();
}

void EngineApiBackend::pull_image(const std::string& reference, const ProgressSink& progress) {
  std::string image = reference;
  std::string tag;
  const auto at = reference.find('@');
  const auto colon = reference.rfind(':');
  const auto slash = reference.rfind('/');
  if (at == std::string::npos && colon != std::string::npos &&
      (slash == std::string::npos || colon > slash)) {
    image = reference.substr(0, colon);
    tag = reference.substr(colon + 1);
  }
  EngineRequest req;
  req.method = "POST";
  req.path = "/images/create";
  req.query = {{"fromImage", image}};
  if (!tag.empty()) req.query.emplace_back("tag", tag);
  if (auto auth = registry_auth_header(reference, registry_auth_files())) {
    req.headers.push_back("X-Registry-Auth: " + *auth);
  }
  JsonMessageStream stream(progress);
  req.on_data = [&](std::string_view d) { stream.feed(d); };
  auto resp = client().request(req);
  stream.finish();
  if (!resp.ok()) {
    client().throw_error(resp, "cannot pull image", {{"image", reference}});
  }
  if (!stream.error().empty()) {
    throw ContainerError(
        "cannot pull image",
        {{"image", reference}, {"engine says", stream.error()}, {"socket", options_.socket}},
        "check the reference and the network; registry credentials are read from "
        "~/.docker/config.json or containers/auth.json");
  }
}

std::string EngineApiBackend::import_image(const std::filesystem::path& rootfs_tar,
                                           const std::string& reference, const Labels& labels) {
  std::string repo = reference;
  std::string tag = "latest";
  const auto colon = reference.rfind(':');
  const auto slash = reference.rfind('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    repo = reference.substr(0, colon);
    tag = reference.substr(colon + 1);
  }
  EngineRequest req;
  req.method = "POST";
  req.path = "/images/create";
  req.query = {{"fromSrc", "-"}, {"repo", repo}, {"tag", tag}};
  for (const auto& [k, v] : with_managed_image(labels)) {
    req.query.emplace_back("changes", "LABEL " + k + "=\"" + v + "\"");
  }
  req.body_file = rootfs_tar;
  req.content_type = "application/x-tar";
  JsonMessageStream stream(nullptr);
  req.on_data = [&](std::string_view d) { stream.feed(d); };
  auto resp = client().request(req);
  stream.finish();
  ErrorContext ctx{{"image", reference}, {"rootfs", rootfs_tar.string()}};
  if (!resp.ok()) client().throw_error(resp, "cannot import the rootfs as an image", ctx);
  if (!stream.error().empty()) {
    ctx.emplace_back("engine says", stream.error());
    ctx.emplace_back("socket", options_.socket);
    throw ContainerError("cannot import the rootfs as an image", ctx);
  }
  auto info = inspect_image(reference);
  const std::string& id = stream.last_status();
  const bool is_new = info && (info->id == id || info->id == "sha256:" + id);
  if ((!info || !is_new) && id.rfind("sha256:", 0) == 0) {
    // Podman's compat import ignores repo/tag: tag the new image by its id (also when the
    // reference still names an older import).
    EngineRequest tag_req;
    tag_req.method = "POST";
    tag_req.path = "/images/" + id + "/tag";
    tag_req.query = {{"repo", repo}, {"tag", tag}};
    client().request_ok(tag_req, "cannot tag the imported image", ctx);
    info = inspect_image(reference);
  }
  if (!info) {
    ctx.emplace_back("socket", options_.socket);
    throw ContainerError("the engine accepted the import but the image does not exist", ctx);
  }
  return info->id;
}

std::string EngineApiBackend::build_image(const ImageBuildSpec& spec,
                                          const std::string& context_tar,
                                          const ProgressSink& progress) {
  nlohmann::json labels = with_managed_image(spec.labels);
  nlohmann::json args = spec.build_args;
  EngineRequest req;
  req.method = "POST";
  req.path = "/build";
  req.query = {{"t", spec.tag},
               {"dockerfile", spec.containerfile},
               {"labels", labels.dump()},
               {"buildargs", args.dump()},
               {"rm", "1"},
               {"forcerm", "1"}};
  if (!spec.network) req.query.emplace_back("networkmode", "none");
  req.body = context_tar;
  req.content_type = "application/x-tar";
  JsonMessageStream stream(progress);
  req.on_data = [&](std::string_view d) { stream.feed(d); };
  auto resp = client().request(req);
  stream.finish();
  ErrorContext ctx{{"image", spec.tag}};
  if (!resp.ok()) client().throw_error(resp, "image build failed", ctx);
  if (!stream.error().empty()) {
    ctx.emplace_back("engine says", stream.error());
    ctx.emplace_back("last output", stream.tail());
    ctx.emplace_back("socket", options_.socket);
    throw ContainerError("image build failed", ctx,
                         "read the build output above; the setup script or the package mirror "
                         "is the usual cause");
  }
  auto info = inspect_image(spec.tag);
  if (!info) {
    ctx.emplace_back("socket", options_.socket);
    throw ContainerError("the engine finished the build but the image does not exist", ctx);
  }
  return info->id;
}

void EngineApiBackend::remove_image(const std::string& reference, bool force) {
  EngineRequest req;
  req.method = "DELETE";
  req.path = "/images/" + reference;
  req.query = {{"force", force ? "1" : "0"}};
  auto resp = client().request(req);
  if (resp.status == 404) return;
  if (!resp.ok()) client().throw_error(resp, "cannot remove image", {{"image", reference}});
}

std::vector<ImageSummary> EngineApiBackend::list_images(const Labels& labels) {
  auto j = client().get_json("/images/json", "cannot list images",
                             {{"all", "0"}, {"filters", label_filters(labels)}});
  std::vector<ImageSummary> out;
  for (const auto& i : j) {
    ImageSummary s;
    s.id = i.value("Id", "");
    s.tags = strings_of(i.value("RepoTags", nlohmann::json::array()));
    s.labels = labels_of(i.value("Labels", nlohmann::json()));
    s.size = i.value("Size", std::int64_t{0});
    // Filters are applied by the engine; check again so a lenient engine cannot widen them.
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || (!v.empty() && it->second != v)) match = false;
    }
    if (match) out.push_back(std::move(s));
  }
  return out;
}

// --- containers ---

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
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || (!v.empty() && it->second != v)) match = false;
    }
    if (match) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sf
