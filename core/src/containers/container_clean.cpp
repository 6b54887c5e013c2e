#include "containers/container_clean.hpp"

#include <algorithm>

#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

// Docker's and Podman's states of a container whose processes may still run.
bool in_use(const ContainerSummary& c) {
  return c.state == "running" || c.state == "paused" || c.state == "restarting";
}

int image_order(const ImageSummary& i) {
  auto it = i.labels.find(kKindLabel);
  const std::string kind = it == i.labels.end() ? "" : it->second;
  return kind == "base" ? 1 : 0;  // base images last: toolchain images are built on them
}

}  // namespace

CleanReport clean_managed_objects(ContainerBackend& backend, const CleanOptions& options) {
  Labels selector = options.selector;
  selector[kManagedLabel] = "true";
  CleanReport report;
  for (auto& c : backend.list_containers(selector)) {
    (in_use(c) && !options.force ? report.kept_running : report.containers).push_back(std::move(c));
  }
  for (const auto& c : report.containers) {
    if (options.dry_run) continue;
    try {
      backend.remove_container(c.id, true);
    } catch (const ContainerError& e) {
      report.failures.push_back("container " + c.id.substr(0, 12) + ": " + e.what() + " (" +
                                e.context_value("engine says") + ")");
    }
  }
  if (!options.full) return report;
  Labels image_selector = options.selector;
  image_selector[kManagedImageLabel] = "true";
  report.images = backend.list_images(image_selector);
  std::stable_sort(report.images.begin(), report.images.end(),
                   [](const auto& a, const auto& b) { return image_order(a) < image_order(b); });
  for (const auto& i : report.images) {
    if (options.dry_run) continue;
    std::vector<std::string> refs = i.tags;
    refs.erase(std::remove_if(refs.begin(), refs.end(),
                              [](const std::string& t) { return t == "<none>:<none>"; }),
               refs.end());
    if (refs.empty()) refs.push_back(i.id);
    for (const auto& ref : refs) {
      try {
        backend.remove_image(ref, false);
      } catch (const ContainerError& e) {
        report.failures.push_back("image " + ref + ": " + e.what() + " (" +
                                  e.context_value("engine says") + ")");
      }
    }
  }
  return report;
}

}  // namespace sf
