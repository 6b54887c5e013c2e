#include "oci_entrypoint.hpp"

namespace sf::oci {

std::string entrypoint_script(const std::string& install_root) {
  std::string s = R"SH(#!/bin/sh
# slurm-factory's container entrypoint (written by the oci packager).
#
#   slurm-factory-entrypoint ROLE [ARGS...]
#
# ROLE is slurmctld, slurmd, slurmdbd or slurmrestd (the daemon runs in the foreground with ARGS),
# or login (ARGS run as a command; none: the container waits for `docker exec`). Before that,
# munged starts from the view with the cluster's key: mount it read-only at /etc/munge/munge.key
# (or name another file with MUNGE_KEY_FILE). slurm.conf (slurmdbd.conf for slurmdbd) is the
# cluster's, mounted at /etc/slurm (or named by SLURM_CONF); a configless slurmd
# (--conf-server HOST) needs none.
set -eu
view='@ROOT@/view'
role=${1:-login}
[ "$#" -gt 0 ] && shift
die() {
  echo "slurm-factory-entrypoint: $*" >&2
  exit 1
}

case "$role" in
  slurmctld | slurmd | slurmdbd | slurmrestd | login) ;;
  *) die "unknown role '$role': use slurmctld, slurmd, slurmdbd, slurmrestd or login" ;;
esac

conf=${SLURM_CONF:-/etc/slurm/slurm.conf}
configless=no
case " $* " in *" --conf-server"*) configless=yes ;; esac
if [ "$role" = slurmdbd ]; then
  [ -f /etc/slurm/slurmdbd.conf ] ||
    die "no /etc/slurm/slurmdbd.conf: mount the cluster's /etc/slurm (the file mode 0600)"
elif [ "$configless" = no ] && [ ! -f "$conf" ]; then
  die "no $conf: mount the cluster's /etc/slurm, or start slurmd with --conf-server HOST"
fi

# The users the daemons run as (SlurmUser and slurmrestd's own): made when the image lacks them.
for user in slurm slurmrestd; do
  id "$user" >/dev/null 2>&1 ||
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$user" >/dev/null 2>&1 ||
    die "cannot create the user '$user' (useradd)"
done
mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/slurm /var/lib/slurm
chown slurm:slurm /var/spool/slurmctld /var/log/slurm /var/lib/slurm

# munge, from the view: the key copied where only root reads it (munged checks its mode and owner).
key=${MUNGE_KEY_FILE:-/etc/munge/munge.key}
[ -f "$key" ] ||
  die "no munge key at $key: mount the cluster's key there read-only (or set MUNGE_KEY_FILE)"
mkdir -p /run/munge /var/lib/munge /var/log/munge /run/slurm-factory
chmod 0755 /run/munge
chmod 0700 /var/lib/munge /var/log/munge /run/slurm-factory
cp "$key" /run/slurm-factory/munge.key
chmod 0400 /run/slurm-factory/munge.key
if [ ! -S /run/munge/munge.socket.2 ]; then
  "$view/sbin/munged" --force --key-file=/run/slurm-factory/munge.key \
    --socket=/run/munge/munge.socket.2 --pid-file=/run/munge/munged.pid \
    --log-file=/var/log/munge/munged.log --seed-file=/var/lib/munge/munged.seed ||
    die "munged did not start: $(tail -n 3 /var/log/munge/munged.log 2>/dev/null)"
fi
"$view/bin/munge" -n | "$view/bin/unmunge" >/dev/null ||
  die "munge does not answer: $(tail -n 3 /var/log/munge/munged.log 2>/dev/null)"

# slurmdbd reads slurmdbd.conf only when SlurmUser owns it and nobody else can read it, which a
# file mounted from the host seldom is: it gets a private copy of the configuration folder, and
# SLURM_CONF names it (slurmdbd finds slurmdbd.conf beside slurm.conf).
if [ "$role" = slurmdbd ]; then
  private=/run/slurm-factory/etc
  rm -rf "$private"
  mkdir -p "$private"
  cp -R /etc/slurm/. "$private/"
  dbd_user=$(sed -n 's/^[[:space:]]*SlurmUser[[:space:]]*=[[:space:]]*\([^[:space:]#]*\).*/\1/p' \
    "$private/slurmdbd.conf" | tail -n 1)
  chown "${dbd_user:-root}" "$private/slurmdbd.conf" ||
    die "SlurmUser '${dbd_user:-root}' of slurmdbd.conf is no user of this image"
  chmod 0600 "$private/slurmdbd.conf"
  export SLURM_CONF="$private/slurm.conf"
fi

case "$role" in
  slurmctld | slurmd | slurmdbd) exec "$view/sbin/$role" -D "$@" ;;
  slurmrestd)
    [ "$#" -gt 0 ] || set -- 0.0.0.0:6820
    exec runuser -u slurmrestd -- "$view/sbin/slurmrestd" "$@"
    ;;
  login)
    [ "$#" -gt 0 ] || exec sleep infinity
    exec "$@"
    ;;
esac
)SH";
  const std::string marker = "@ROOT@";
  for (auto at = s.find(marker); at != std::string::npos; at = s.find(marker, at)) {
    s.replace(at, marker.size(), install_root);
    at += install_root.size();
  }
  return s;
}

}  // namespace sf::oci
