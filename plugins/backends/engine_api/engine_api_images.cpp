// The image operations of the Engine API backend: inspect, pull, import, build, remove, list.

#include "engine_api/engine_api_backend.hpp"
#include "engine_api/engine_api_client.hpp"
#include "engine_api/registry_auth.hpp"
#include "engine_api_labels.hpp"
#include "json_message_stream.hpp"

namespace sf {

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
  auto resp = stream.request(client(), req);
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
  auto resp = stream.request(client(), req);
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
  auto resp = stream.request(client(), req);
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
    if (labels_match(s.labels, labels)) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sf
