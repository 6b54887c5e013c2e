#!/usr/bin/env bash
# End to end: GPU features on real trixie builds.
#
#   tests/e2e/gpu.sh [a] [b]        (default: both parts)
#
# (a) `build-slurm --toolchain trixie --gpu cuda,rocm,oneapi --verify`: the build image gets
#     libnvidia-ml-dev (non-free), librocm-smi-dev and libze-dev from the release data, Slurm is
#     configured --with-nvml --with-rsmi --with-oneapi; checks that view/lib/slurm holds
#     gpu_nvml.so, gpu_rsmi.so and gpu_oneapi.so, that each calls its vendor API (Slurm dlopens the
#     driver's libnvidia-ml / librocm_smi64 / libze_loader by name at run time), that no
#     driver library (libnvidia-ml, libcuda, libze_loader, librocm_smi64) is in the view, that
#     `verify --deep` passes, that gres.conf's template names the three AutoDetect values, that
#     slurm_install.sh --init-only renders gres.conf on a clean trixie container, and that
#     provenance.json lists the features.
# (b) The same request on a site release that drops one flavour's -dev package, as an admin would
#     write it in a config file:
#         toolchains:
#           trixie-no-oneapi: {based_on: trixie, gpu_packages: {oneapi: []}}
#     The build must fail, non-zero, naming Slurm, the missing library or plugin, and the log file.
#     By default the dependencies come from the release's -dev packages (a site recipe folder,
#     SLURM_FACTORY_RECIPE_DIR, with `from: system`), so only Slurm builds in the new image;
#     SF_E2E_B_FULL=1 builds every dependency in it too (about 40 minutes on a loaded 2-core host).
#
# Environment: SF_BIN (default build/bin/slurm-factory), SF_E2E_CACHE (cache kept between runs;
# default a new temporary one: then every dependency builds), SF_E2E_VERSION (default 24.11.5),
# SF_E2E_JOBS (default 2), SF_E2E_BACKEND (default docker), SF_E2E_GPU (default cuda,rocm,oneapi),
# SF_E2E_DROP (the flavour part b drops, default oneapi). Entries are signed with a throwaway GPG key
# kept beside the cache (as tests/e2e/build-slurm.sh does). One PASS/FAIL line per check, then
# "gpu e2e: PASS" or "gpu e2e: FAIL (N failed)".
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
GPU=${SF_E2E_GPU:-cuda,rocm,oneapi}
DROP=${SF_E2E_DROP:-oneapi}
[ "$#" -gt 0 ] || set -- a b
e2e_setup gpu
cleanup() {
  stop_gpg_agent
  rm -rf "$work/x"
  [ -n "${SF_E2E_CACHE:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

need_binary "gpu e2e"

signing_key "$CACHE/e2e-gnupg" "$E2E_KEY"
{ sf_config "$CACHE" "feature-gpu-cuda, feature-gpu-rocm, feature-gpu-oneapi"; cat <<CONF; } > "$work/config.yaml"
# Part b: a site release without one flavour's -dev package (an empty list installs nothing).
toolchains:
  trixie-no-$DROP:
    based_on: trixie
    gpu_packages: {$DROP: []}
CONF

plugin_of() { # flavour -> Slurm plugin
  case $1 in cuda) echo gpu_nvml.so ;; rocm) echo gpu_rsmi.so ;; oneapi) echo gpu_oneapi.so ;; esac
}
api_of() { # flavour -> the vendor API's symbol prefix (an ERE)
  case $1 in cuda) echo 'nvml[A-Z]' ;; rocm) echo 'rsmi_' ;; oneapi) echo 'ze[A-Z]' ;; esac
}
vendor_lib_of() { # flavour -> the driver library Slurm dlopens for it (never bundled)
  case $1 in cuda) echo libnvidia-ml.so ;; rocm) echo librocm_smi64.so ;; oneapi) echo libze_loader.so ;; esac
}
build() { # build TOOLCHAIN NAME -> exit status; events in $work/NAME.json, stderr in .err
  "$SF_BIN" --json --config "$work/config.yaml" build-slurm --slurm-version "$VERSION" \
    --toolchain "$1" --gpu "$GPU" --backend "$BACKEND" --jobs "$JOBS" --verify \
    --output "$work/out-$2" > "$work/$2.json" 2> "$work/$2.err"
}

part_a() {
  echo "== a: Slurm $VERSION for trixie --gpu $GPU on $BACKEND (cache $CACHE)"
  start=$(date +%s)
  build trixie a
  rc=$?
  secs=$(( $(date +%s) - start ))
  built=$(jq -r 'select(.event=="build" and .kind=="done") | .data.built' "$work/a.json" 2>/dev/null)
  check "a: build-slurm --gpu $GPU --verify exits 0 in ${secs}s (built ${built:-?})" "$rc" \
    "$(tail -n 25 "$work/a.err")"
  [ "$rc" -eq 0 ] || return
  artifact=$(jq -r 'select(.event=="result") | .artifact' "$work/a.json")
  echo "   artifact: $artifact"
  flavours=$(echo "$GPU" | tr ',' ' ')
  name=$(basename "$artifact")
  missing_name=0
  for g in $flavours; do case $name in *-"$g"-*|*-"$g"-amd64-*) ;; *) missing_name=1 ;; esac; done
  check "a: the artifact's name carries the GPU flavours ($name)" "$missing_name"

  list="$work/a-list.txt"
  tar --zstd -tf "$artifact" > "$list"
  mkdir -p "$work/x"
  for g in $flavours; do
    p=$(plugin_of "$g")
    grep -qx "view/lib/slurm/$p" "$list"
    check "a: view/lib/slurm/$p is in the tarball ($g)" $?
    # Slurm's gpu interface dlopens the driver's library by name (RTLD_GLOBAL) before loading the
    # plugin, so the plugin has the vendor API as undefined symbols and no NEEDED entry for it.
    tar --zstd -xf "$artifact" -C "$work/x" "view/lib/slurm/$p" 2>/dev/null
    api=$(nm -D --undefined-only "$work/x/view/lib/slurm/$p" 2>/dev/null | grep -cE " ($(api_of "$g"))")
    lib=$(vendor_lib_of "$g")
    [ "${api:-0}" -gt 0 ]
    check "a: $p calls the vendor API ($api undefined symbols, from the driver's $lib)" $?
  done
  tar --zstd -xf "$artifact" -C "$work/x" view/lib/slurm/libslurmfull.so 2>/dev/null
  bad=0
  for g in $flavours; do
    grep -qa "$(vendor_lib_of "$g")" "$work/x/view/lib/slurm/libslurmfull.so" || bad=1
  done
  check "a: libslurmfull dlopens the driver libraries by name (from the node, not the view)" "$bad"
  drivers=$(grep -E '(^|/)(libnvidia-ml|libcuda|libze_loader|libze_intel_gpu|librocm_smi64|libamdhip64|libhsa-runtime64)\.so' "$list")
  [ -z "$drivers" ]
  check "a: no GPU driver library in the tarball" $? "$drivers"

  out=$("$SF_BIN" --config "$work/config.yaml" verify --deep "$artifact" 2>&1)
  rc=$?
  check "a: verify --deep ($(echo "$out" | tail -n 1))" "$rc" "$(echo "$out" | tail -n 15)"

  tar --zstd -xf "$artifact" -C "$work/x" --wildcards 'data/slurm_assets/slurm/gres.conf*' 2>/dev/null
  gres=$(find "$work/x/data/slurm_assets/slurm" -name 'gres.conf*' 2>/dev/null | head -n 1)
  bad=0
  for g in $flavours; do
    case $g in cuda) a=nvml ;; rocm) a=rsmi ;; oneapi) a=oneapi ;; esac
    grep -q "$a" "$gres" 2>/dev/null || bad=1
  done
  check "a: gres.conf template in the artifact names the AutoDetect values ($(grep -m1 '^AutoDetect' "$gres" 2>/dev/null))" "$bad"

  # slurm_install.sh renders gres.conf on a clean trixie machine (no GPU, no driver).
  base=$(docker images --format '{{.Repository}}:{{.Tag}}' slurm-factory/base-trixie | head -n 1)
  if [ -n "$base" ]; then
    # shellcheck disable=SC2016 # expands in the container
    out=$(zstd -dc "$artifact" | docker run --rm -i --network none "$base" bash -c '
      mkdir -p /srv/gpu-site && tar -x -C /srv/gpu-site &&
      /srv/gpu-site/data/slurm_assets/slurm_install.sh --prefix /srv/gpu-site --init-only >/dev/null &&
      cat /etc/slurm/gres.conf' 2>&1)
    first=$(echo "$flavours" | tr ' ' '\n' | sort | head -n 1)
    case $first in cuda) want=nvml ;; rocm) want=rsmi ;; *) want=oneapi ;; esac
    echo "$out" | grep -qx "AutoDetect=$want"
    check "a: slurm_install.sh --init-only on a clean trixie container renders gres.conf with AutoDetect=$want" \
      $? "$(echo "$out" | tail -n 8)"
  else
    check "a: a clean base image slurm-factory/base-trixie for the gres.conf check" 1
  fi

  prov="${artifact%.tar.*}.provenance.json"
  feats=$(jq -r '.features | join(",")' "$prov" 2>/dev/null)
  bad=0
  for g in $flavours; do echo ",$feats," | grep -q ",gpu-$g," || bad=1; done
  check "a: provenance.json lists the features ($feats)" "$bad"
}

part_b() {
  tc="trixie-no-$DROP"
  p=$(plugin_of "$DROP")
  echo "== b: the same on $tc (gpu_packages.$DROP: [] in a site config): the build must fail"
  if [ "${SF_E2E_B_FULL:-0}" != 1 ]; then
    # Fast: a site recipe folder (SLURM_FACTORY_RECIPE_DIR) takes every dependency from the
    # release's -dev packages, so only Slurm builds in the new image; SF_E2E_B_FULL=1 builds them.
    site_recipes_from_system "$work"
    echo "   dependencies from the release's -dev packages (recipes in $work/recipes)"
  fi
  start=$(date +%s)
  build "$tc" b
  rc=$?
  secs=$(( $(date +%s) - start ))
  err=$(cat "$work/b.err")
  [ "$rc" -ne 0 ]
  check "b: build-slurm --gpu $GPU on $tc fails (exit $rc after ${secs}s)" $? "$(tail -n 20 "$work/b.err")"
  echo "$err" | sed 's/^/   | /' | tail -n 30
  log=$(echo "$err" | grep -oE '/[^ ]*/slurm\.log' | head -n 1)
  # Either configure refuses (--with-$DROP asked for it), or the assembly finds the plugin missing.
  if echo "$err" | grep -q "$p"; then
    check "b: the error names the missing plugin $p and the feature gpu-$DROP" \
      "$(echo "$err" | grep -q "gpu-$DROP"; echo $?)"
  else
    lib=$(vendor_lib_of "$DROP")
    echo "$err" | grep -q "unable to locate $lib"
    check "b: the error is Slurm's configure refusing --with-$DROP: 'unable to locate $lib'" $? \
      "$(echo "$err" | head -n 5)"
  fi
  echo "$err" | grep -q "slurm" && [ -n "$log" ] && [ -f "$log" ]
  check "b: the error names package slurm and its log file (${log:-none})" $?
}

for part in "$@"; do
  case $part in
    a) part_a ;;
    b) part_b ;;
    *) echo "unknown part '$part' (a or b)"; exit 2 ;;
  esac
done
summary "gpu e2e"
