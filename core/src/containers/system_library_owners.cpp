#include "containers/system_library_owners.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "containers/hermetic_runner.hpp"
#include "containers/system_library_export.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

// After kLocateLibraryShell. dpkg's database names a library by the path its package ships
// (/usr/lib/... on trixie, /lib/... on bookworm), ldconfig by where it is found: both spellings
// are asked. The package name loses its ":arch" qualifier; the version is the installed one.
constexpr const char* kScriptBody = R"SH(
: > /work/owners.txt
owner_dpkg() {
  for q in "$1" "/usr$1" "${1#/usr}"; do
    line=$(dpkg-query -S "$q" 2>/dev/null | head -n 1) || continue
    [ -n "$line" ] || continue
    pkg=${line%%: *}
    pkg=${pkg%%,*}
    ver=$(dpkg-query -W -f '${Version}' "$pkg" 2>/dev/null) || ver=-
    echo "${pkg%%:*} ${ver:--}"
    return 0
  done
  return 1
}
owner_rpm() {
  rpm -qf --qf '%{NAME} %{VERSION}-%{RELEASE}\n' "$1" 2>/dev/null | head -n 1
}
for so in $SF_SONAMES; do
  ans="- -"
  if p=$(locate "$so"); then
    if command -v dpkg-query >/dev/null 2>&1; then
      ans=$(owner_dpkg "$p") || ans="- -"
    elif command -v rpm >/dev/null 2>&1; then
      ans=$(owner_rpm "$p") || ans="- -"
    fi
  fi
  echo "owner $so $ans" >> /work/owners.txt
done
)SH";

bool plain(const std::string& s, const std::string& extra) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [&extra](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           extra.find(c) != std::string::npos;
  });
}

}  // namespace

SystemLibraryPackage parse_owner_line(const std::string& line) {
  std::istringstream in(line);
  std::string what, soname, package, version, rest;
  in >> what >> soname >> package >> version;
  if (what != "owner" || !is_plain_soname(soname) || (in >> rest)) return {};
  SystemLibraryPackage p;
  p.soname = soname;
  if (package == "-" || version == "-") return p;
  // Debian and RPM package names ([a-z0-9+.-], RPM also upper case and '_'), versions with an
  // epoch, '~' and '+'.
  if (!plain(package, "+.-_") || !plain(version, ".+~:-_")) return {};
  p.package = package;
  p.version = version;
  return p;
}

std::vector<SystemLibraryPackage> query_system_library_owners(
    ContainerBackend& backend, const SystemLibraryOwnersRequest& request) {
  std::string sonames;
  for (const auto& s : request.sonames) {
    if (!is_plain_soname(s)) {
      throw UsageError("not a library file name: '" + s + "'", {{"image", request.image}},
                       "give sonames such as libpam.so.0 (no '/', no spaces)");
    }
    sonames += (sonames.empty() ? "" : " ") + s;
  }
  std::vector<SystemLibraryPackage> result;
  if (request.sonames.empty()) return result;
  std::error_code ec;
  fs::remove_all(request.work_dir, ec);
  fs::create_directories(request.work_dir, ec);
  if (ec) {
    throw PackagingError("cannot create a work folder: " + ec.message(),
                         {{"folder", request.work_dir.string()}},
                         "check free space and permissions of the cache folder");
  }
  HermeticRunSpec spec;
  spec.image = request.image;
  spec.script = std::string(kLocateLibraryShell) + kScriptBody;
  spec.work_dir = request.work_dir;
  spec.env = {"SF_SONAMES=" + sonames};
  if (!request.multiarch.empty()) spec.env.push_back("SF_MULTIARCH=" + request.multiarch);
  spec.log_file = request.log_file.empty() ? request.work_dir / "owners.log" : request.log_file;
  spec.context = {{"stage", "package"}, {"step", "find the OS packages of system libraries"}};
  spec.timeout = std::chrono::minutes(2);
  run_hermetic(backend, spec);

  std::map<std::string, SystemLibraryPackage> by_soname;
  std::ifstream in(request.work_dir / "owners.txt");
  std::string line;
  std::size_t lines = 0;
  while (lines++ < 4096 && std::getline(in, line)) {
    SystemLibraryPackage p = parse_owner_line(line);
    if (!p.soname.empty()) by_soname[p.soname] = p;
  }
  for (const auto& s : request.sonames) {
    auto it = by_soname.find(s);
    SystemLibraryPackage p = it != by_soname.end() ? it->second : SystemLibraryPackage{s, "", ""};
    if (p.package.empty()) {
      log().warn("package: no OS package of {} found in {} (log: {})", s, request.image,
                 spec.log_file.string());
    }
    result.push_back(p);
  }
  return result;
}

}  // namespace sf
