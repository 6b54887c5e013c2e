// `slurm-factory clean`: removes the containers (and with `full` the images) that carry our
// managed label, and nothing else. A running container is kept unless `force`: it may be the build
// of another slurm-factory process (a nightly pipeline, a second shell), which it would kill.
// Toolchain images are removed before the base images they were built on; images are untagged by
// reference so an image in use by another tag is not forced.
#pragma once

#include <string>
#include <vector>

#include "slurm_factory/container_backend.hpp"

namespace sf {

struct CleanOptions {
  bool full = false;     // images too
  bool dry_run = false;  // list, remove nothing
  bool force = false;    // running containers too
  Labels selector;       // extra labels to narrow the selection (kManagedLabel is always added)
};

struct CleanReport {
  std::vector<ContainerSummary> containers;    // removed (or, dry run, to remove)
  std::vector<ContainerSummary> kept_running;  // running, kept (no force)
  std::vector<ImageSummary> images;
  std::vector<std::string> failures;  // "what: why" for objects that could not be removed
};

CleanReport clean_managed_objects(ContainerBackend& backend, const CleanOptions& options);

}  // namespace sf
