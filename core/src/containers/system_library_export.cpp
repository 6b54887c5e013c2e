#include "containers/system_library_export.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "containers/hermetic_runner.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

// Runs in the image as the builder user with /work writable. SF_SONAMES: space-separated plain
// sonames. Writes /work/lib/<soname> (dereferenced copies) and /work/index.txt with one line per
// soname: "found SONAME PATH", "dep SONAME PATH" (from a found library's ldd closure) or
// "missing SONAME". A cross build (SF_MULTIARCH: the target's triplet) looks in the target's
// multiarch folders only and follows NEEDED entries with the cross readelf (SF_READELF): ldd
// cannot run a foreign program's loader.
constexpr const char* kScriptBody = R"SH(
out=/work/lib
mkdir -p "$out"
: > /work/index.txt
# "SONAME PATH" of every library FILE loads, directly or not
closure() {
  if [ -z "${SF_MULTIARCH:-}" ]; then
    ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }'
    return 0
  fi
  todo=$1
  seen=' '
  while [ -n "$todo" ]; do
    # shellcheck disable=SC2086 # paths of library folders: no spaces
    set -- $todo
    f=$1
    shift
    todo=$*
    for n in $("$SF_READELF" -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p'); do
      case "$seen" in *" $n "*) continue ;; esac
      seen="$seen$n "
      if dp=$(locate "$n"); then
        echo "$n $dp"
        todo="$todo $dp"
      fi
    done
  done
}
for so in $SF_SONAMES; do
  if ! p=$(locate "$so"); then
    echo "missing $so" >> /work/index.txt
    continue
  fi
  cp -L "$p" "$out/$so"
  echo "found $so $p" >> /work/index.txt
  closure "$p" |
  while read -r dep path; do
    [ -e "$out/$dep" ] && continue
    cp -L "$path" "$out/$dep"
    echo "dep $dep $path" >> /work/index.txt
  done
done
echo "exported $(ls "$out" | wc -l) file(s)"
)SH";

}  // namespace

const char* const kLocateLibraryShell = R"SH(set -eu
# locate SONAME: its path in this image (SF_MULTIARCH: the target's multiarch folders only)
locate() {
  if [ -n "${SF_MULTIARCH:-}" ]; then
    for d in "/usr/lib/$SF_MULTIARCH" "/lib/$SF_MULTIARCH" "/usr/$SF_MULTIARCH/lib"; do
      if [ -e "$d/$1" ]; then echo "$d/$1"; return 0; fi
    done
    return 1
  fi
  p=$(ldconfig -p 2>/dev/null | awk -v so="$1" '$1 == so { print $NF; exit }')
  if [ -n "$p" ] && [ -e "$p" ]; then echo "$p"; return 0; fi
  for d in /usr/lib/*-linux-gnu /lib/*-linux-gnu /usr/lib64 /lib64 /usr/lib /lib /usr/local/lib; do
    if [ -e "$d/$1" ]; then echo "$d/$1"; return 0; fi
  done
  return 1
}
)SH";

bool is_plain_soname(const std::string& soname) {
  if (soname.empty() || soname == "." || soname == "..") return false;
  return std::all_of(soname.begin(), soname.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '+' || c == '-';
  });
}

SystemLibraryExport export_system_libraries(ContainerBackend& backend,
                                            const SystemLibraryExportRequest& request) {
  std::string sonames;
  for (const auto& s : request.sonames) {
    if (!is_plain_soname(s)) {
      throw UsageError("not a library file name: '" + s + "'", {{"image", request.image}},
                       "give sonames such as libpmix.so.2 (no '/', no spaces)");
    }
    sonames += (sonames.empty() ? "" : " ") + s;
  }
  SystemLibraryExport result;
  result.dir = request.out_dir / "lib";
  std::error_code ec;
  fs::remove_all(request.out_dir, ec);
  fs::create_directories(request.out_dir, ec);
  if (ec) {
    throw PackagingError("cannot create the folder for the exported libraries: " + ec.message(),
                         {{"folder", request.out_dir.string()}},
                         "check free space and permissions of the cache folder");
  }
  if (request.sonames.empty()) {
    fs::create_directories(result.dir, ec);
    return result;
  }

  HermeticRunSpec spec;
  spec.image = request.image;
  spec.script = std::string(kLocateLibraryShell) + kScriptBody;
  spec.work_dir = request.out_dir;
  spec.env = {"SF_SONAMES=" + sonames};
  if (!request.multiarch.empty()) {
    spec.env.push_back("SF_MULTIARCH=" + request.multiarch);
    spec.env.push_back("SF_READELF=" + request.multiarch + "-readelf");
  }
  spec.log_file = request.log_file.empty() ? request.out_dir / "export.log" : request.log_file;
  spec.context = {{"stage", "assemble"}, {"step", "export system libraries"}};
  spec.timeout = std::chrono::minutes(5);
  run_hermetic(backend, spec);

  std::ifstream index(request.out_dir / "index.txt");
  if (!index) {
    throw ContainerError("the library export wrote no index",
                         {{"image", request.image}, {"log", spec.log_file.string()}},
                         "read the log; the image needs /bin/sh, ldconfig or ldd, cp and awk");
  }
  std::string line;
  while (std::getline(index, line)) {
    std::istringstream in(line);
    std::string what, soname, path;
    in >> what >> soname >> path;
    if (what == "found") {
      result.found[soname] = path;
    } else if (what == "missing") {
      result.missing.push_back(soname);
    }
  }
  log().info("exported {} of {} system librar{} from {} into {}", result.found.size(),
             request.sonames.size(), request.sonames.size() == 1 ? "y" : "ies", request.image,
             result.dir.string());
  return result;
}

}  // namespace sf
