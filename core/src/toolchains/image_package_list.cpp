#include "toolchains/image_package_list.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "containers/hermetic_runner.hpp"
#include "recipes/package_hash.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"
#include "support/file_io.hpp"
#include "support/safe_walk.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

constexpr std::uint64_t kListCap = 16ULL << 20;

std::string file_name_for(const std::string& image_id) {
  std::string out;
  for (char c : image_id) out += (std::isalnum(static_cast<unsigned char>(c)) != 0) ? c : '-';
  return out + ".packages";
}

std::map<std::string, std::string> by_name(const std::vector<std::string>& lines) {
  std::map<std::string, std::string> out;
  for (const auto& l : lines) {
    const auto eq = l.find('=');
    out[l.substr(0, eq)] = eq == std::string::npos ? std::string() : l.substr(eq + 1);
  }
  return out;
}

}  // namespace

std::string image_package_query_script() {
  return "if command -v dpkg-query >/dev/null 2>&1; then\n"
         "  dpkg-query -W -f='${Package}:${Architecture}=${Version}\\n'\n"
         "elif command -v rpm >/dev/null 2>&1; then\n"
         "  rpm -qa --qf '%{NAME}:%{ARCH}=%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\n'\n"
         "else\n"
         "  echo 'neither dpkg-query nor rpm in the image' >&2; exit 3\n"
         "fi | LC_ALL=C sort -u > /work/packages.txt\n";
}

ImagePackageList parse_image_package_list(const std::string& text) {
  std::set<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.pop_back();
    if (!l.empty()) lines.insert(l);
  }
  ImagePackageList out;
  out.packages.assign(lines.begin(), lines.end());
  std::string joined;
  for (const auto& l : out.packages) joined += l + "\n";
  out.sha256 = sha256_hex(joined);
  return out;
}

std::string image_identity(const std::string& definition_hash, const ImagePackageList& list) {
  return sha256_hex("toolchain-image\n" + definition_hash + "\n" + list.sha256 + "\n");
}

ImagePackageList image_package_list(ContainerBackend& backend, const std::string& image,
                                    const std::string& image_id, const fs::path& cache_dir) {
  const fs::path kept =
      cache_dir / "toolchains" / file_name_for(image_id.empty() ? image : image_id);
  if (!image_id.empty()) {
    if (auto text = read_file_beneath(kept.parent_path(), kept.filename().string(), kListCap)) {
      auto list = parse_image_package_list(*text);
      if (!list.packages.empty()) return list;
    }
  }
  // A folder of this call's own: concurrent cells of one process (`run --parallel`) ask at once.
  auto made = make_private_dir(cache_dir / "tmp");
  if (!made) {
    throw ContainerError(
        "cannot make a folder for the package list of " + image + ": " + made.error().message,
        {{"image", image}, {"folder", (cache_dir / "tmp").string()}},
        "check that cache_dir is writable and has room");
  }
  const fs::path work = *made;
  std::error_code ec;
  struct Remove {
    fs::path dir;
    ~Remove() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } remove{work};
  HermeticRunSpec spec;
  spec.image = image;
  spec.script = image_package_query_script();
  spec.work_dir = work;
  spec.log_file = work.string() + ".log";  // beside, not inside what the container writes
  spec.context = {{"image", image}, {"stage", "package list"}};
  run_hermetic(backend, spec);
  fs::remove(spec.log_file, ec);
  auto text = read_file_beneath(work, "packages.txt", kListCap);
  ImagePackageList list = text ? parse_image_package_list(*text) : ImagePackageList{};
  if (list.packages.empty()) {
    throw ContainerError("the package list of " + image + " is empty", {{"image", image}},
                         "check that the image has dpkg-query or rpm");
  }
  if (!image_id.empty()) {
    fs::create_directories(kept.parent_path(), ec);
    std::string joined;
    for (const auto& l : list.packages) joined += l + "\n";
    (void)write_file_atomically(kept, joined);
  }
  return list;
}

std::map<std::string, std::string> package_list_changes(const std::vector<std::string>& recorded,
                                                        const std::vector<std::string>& current) {
  const auto a = by_name(recorded);
  const auto b = by_name(current);
  std::map<std::string, std::string> out;
  for (const auto& [name, v] : a) {
    auto it = b.find(name);
    if (it == b.end()) {
      out[name] = v + " -> (absent)";
    } else if (it->second != v) {
      out[name] = v + " -> " + it->second;
    }
  }
  for (const auto& [name, v] : b) {
    if (!a.count(name)) out[name] = "(absent) -> " + v;
  }
  return out;
}

}  // namespace sf
