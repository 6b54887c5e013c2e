// A container's whole filesystem, as an engine streams it (the tar of "/" a copy-out gives:
// names with a leading "/", the engine's own files and the mounted /dev), turned into an image
// layer: entry names made relative, what the engine adds and a runtime mounts again dropped
// (/.dockerenv, /run/.containerenv, everything under /dev, /proc and /sys, /etc/hostname,
// /etc/hosts, /etc/resolv.conf), device nodes and FIFOs dropped, an entry whose name has a ".."
// component refused (the stream is the engine's: hostile until read). Entries keep their order,
// modes, owners and times (the layer is the OS as the image has it); nothing is extracted on the
// host.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "slurm_factory/expected.hpp"

namespace sf {

struct RootfsLayerStats {
  std::uint64_t entries = 0;  // written
  std::uint64_t dropped = 0;  // the engine's, devices, mount points' contents
  std::string sha256;         // of the written (uncompressed) tar: the layer's diff_id
};

// The layer name of an engine's entry ("/usr/bin/x" -> "usr/bin/x"); "" to drop it (the root
// itself and what a runtime mounts). Throws nothing; a name with a ".." component gives "..".
std::string rootfs_layer_name(const std::string& engine_name);

// Reads the tar `engine_tar` and writes the layer tar `layer_tar` (uncompressed, pax). A Failure
// names the entry that was refused or the file that could not be read or written.
Expected<RootfsLayerStats> write_rootfs_layer(const std::filesystem::path& engine_tar,
                                              const std::filesystem::path& layer_tar);

}  // namespace sf
