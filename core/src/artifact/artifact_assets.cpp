#include "artifact/artifact_assets.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>

#include "slurm_factory/errors.hpp"
#include "support/template_renderer.hpp"

namespace sf {
namespace fs = std::filesystem;

namespace {

// "24.11.5" -> {24, 11}; {0, 0} when it does not parse.
std::pair<int, int> major_minor(const std::string& v) {
  int major = 0;
  int minor = 0;
  const char* b = v.data();
  const char* e = v.data() + v.size();
  auto r = std::from_chars(b, e, major);
  if (r.ec == std::errc{} && r.ptr != e && *r.ptr == '.') std::from_chars(r.ptr + 1, e, minor);
  return {major, minor};
}

std::string gpu_autodetect(const std::string& gpu) {
  if (gpu == "cuda") return "nvml";
  if (gpu == "rocm") return "rsmi";
  if (gpu == "oneapi") return "oneapi";
  return gpu;
}

std::vector<std::string> sorted_gpu(const ArtifactInfo& info) {
  std::vector<std::string> g = info.gpu;
  std::sort(g.begin(), g.end());
  g.erase(std::unique(g.begin(), g.end()), g.end());
  return g;
}

}  // namespace

nlohmann::json artifact_template_data(const ArtifactInfo& info) {
  const auto [major, minor] = major_minor(info.slurm_version);
  nlohmann::json gpu = nlohmann::json::array();
  for (const auto& g : sorted_gpu(info)) {
    gpu.push_back({{"name", g}, {"autodetect", gpu_autodetect(g)}});
  }
  std::string root = info.install_root;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return {
      {"slurm",
       {{"version", info.slurm_version},
        {"series", std::to_string(major) + "." + std::to_string(minor)},
        {"auth_slurm", major > 23 || (major == 23 && minor >= 11)}}},
      {"toolchain",
       {{"name", info.toolchain},
        {"family", info.toolchain_family},
        {"os_name", info.os_name},
        {"arch", info.arch}}},
      {"install_root", root},
      {"prefix", root + "/view"},
      {"module", {{"name", "slurm"}, {"version", info.slurm_version + "-" + info.toolchain}}},
      {"gpu", gpu},
      {"has_gpu", !gpu.empty()},
      {"gpu_autodetect",
       gpu.empty() ? std::string("off") : gpu[0]["autodetect"].get<std::string>()},
      {"builder_version", info.builder_version.empty() ? SF_VERSION : info.builder_version},
      {"artifact", artifact_basename(info)},
  };
}

std::string artifact_basename(const ArtifactInfo& info) {
  std::string name = "slurm-" + info.slurm_version + "-" + info.toolchain;
  for (const auto& g : sorted_gpu(info)) name += "-" + g;
  return name + "-" + info.arch + (info.with_dev ? "-dev" : "-software");
}

std::string artifact_module_stem(const ArtifactInfo& info) {
  return "modules/slurm/" + info.slurm_version + "-" + info.toolchain;
}

std::vector<RenderedAsset> artifact_assets(const ArtifactInfo& info) {
  const std::string stem = artifact_module_stem(info);
  const std::string a = "data/slurm_assets/";
  std::vector<RenderedAsset> out = {
      {stem + ".lua", "modules/modulefile.lua", 0644},
      {stem + ".tcl", "modules/modulefile.tcl", 0644},
      {a + "slurm_install.sh", "slurm_install.sh", 0755},
      {a + "defaults/munged.service", "systemd/munged.service", 0644},
      {a + "defaults/slurmctld.service", "systemd/slurmctld.service", 0644},
      {a + "defaults/slurmd.service", "systemd/slurmd.service", 0644},
      {a + "defaults/slurmdbd.service", "systemd/slurmdbd.service", 0644},
      {a + "defaults/slurmrestd.service", "systemd/slurmrestd.service", 0644},
      {a + "slurm/slurm.conf.template", "slurm/slurm.conf.template", 0644},
      {a + "slurm/slurmdbd.conf.template", "slurm/slurmdbd.conf.template", 0644},
      {a + "slurm/cgroup.conf.template", "slurm/cgroup.conf.template", 0644},
      {a + "mysql/slurm_acct_db.sql", "mysql/slurm_acct_db.sql", 0644},
  };
  if (!info.gpu.empty()) {
    out.push_back({a + "slurm/gres.conf.template", "slurm/gres.conf.template", 0644});
  }
  std::sort(out.begin(), out.end(),
            [](const RenderedAsset& x, const RenderedAsset& y) { return x.path < y.path; });
  return out;
}

void render_artifact_assets(const ArtifactInfo& info, const fs::path& root,
                            const TemplateRenderer& renderer) {
  const nlohmann::json data = artifact_template_data(info);
  for (const auto& asset : artifact_assets(info)) {
    const std::string text = renderer.render(asset.template_name, data);
    const fs::path dest = root / asset.path;
    std::error_code ec;
    fs::create_directories(dest.parent_path(), ec);
    std::ofstream out(dest, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out || ec) {
      throw PackagingError("cannot write a rendered asset", {{"file", dest.string()}},
                           "check that the staging folder is writable and the disk has room");
    }
    fs::permissions(dest, static_cast<fs::perms>(asset.mode), fs::perm_options::replace, ec);
  }
}

}  // namespace sf
