// `slurm-factory clean`: removes the containers (and with `full` the images) that carry our
// managed label, and nothing else. Toolchain images are removed before the base images they were
// built on; images are untagged by reference so an image in use by another tag is not forced.
#pragma once

#include <string>
#include <vector>

#include "slurm_factory/container_backend.hpp"

namespace sf {

struct CleanOptions {
  bool full = false;     // images too
  bool dry_run = false;  // list, remove nothing
  Labels selector;       // extra labels to narrow the selection (kManagedLabel is always added)
};

struct CleanReport {
  std::vector<ContainerSummary> containers;
  std::vector<ImageSummary> images;
  std::vector<std::string> failures;  // "what: why" for objects that could not be removed
};

CleanReport clean_managed_objects(ContainerBackend& backend, const CleanOptions& options);

}  // namespace sf
