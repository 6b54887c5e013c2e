#include "install_scripts.hpp"

#include "slurm_factory/shell_quote.hpp"

namespace sf::pkg {

namespace {

// The files and folders a first install may create; what it did create is removed again.
constexpr const char* kGenerated =
    "/etc/slurm/slurm.conf /etc/slurm/cgroup.conf /etc/slurm/gres.conf /etc/slurm/slurm.key "
    "/etc/slurm/jwt_hs256.key /var/spool/slurmctld /var/spool/slurmd /var/log/slurm";

}  // namespace

std::string create_slurm_user_sh() {
  return "getent group slurm >/dev/null || groupadd --system slurm\n"
         "if ! getent passwd slurm >/dev/null; then\n"
         "  useradd --system --gid slurm --home-dir /var/lib/slurm --no-create-home \\\n"
         "    --shell /usr/sbin/nologin --comment 'Slurm workload manager' slurm\n"
         "fi\n";
}

std::string first_install_config_sh(const std::string& root, const std::string& state_dir) {
  return "SF_ROOT=" + shell_quote(root) + "\nSF_STATE=" + shell_quote(state_dir) +
         "\nSF_GENERATED='" + kGenerated +
         "'\n"
         "mkdir -p \"$SF_STATE\"\n"
         "if [ ! -e /etc/slurm/slurm.conf ]; then\n"
         "  # First install: a one-node configuration of this host, as slurm_install.sh\n"
         "  # --init-only writes it. Replace /etc/slurm/slurm.conf with the cluster's own.\n"
         "  sf_before=''\n"
         "  for f in $SF_GENERATED; do if [ -e \"$f\" ]; then sf_before=\"$sf_before $f \"; fi; "
         "done\n"
         "  if \"$SF_ROOT/data/slurm_assets/slurm_install.sh\" --prefix \"$SF_ROOT\" --init-only "
         "\\\n"
         "    >\"$SF_STATE/init.log\" 2>&1; then\n"
         "    echo \"slurm: wrote a one-node /etc/slurm/slurm.conf for this host "
         "($SF_STATE/init.log)\"\n"
         "  else\n"
         "    echo \"slurm: warning: no default configuration written (see $SF_STATE/init.log);\" "
         "\\\n"
         "      \"write /etc/slurm/slurm.conf for your cluster\" >&2\n"
         "  fi\n"
         "  for f in $SF_GENERATED; do\n"
         "    case \"$sf_before\" in\n"
         "      *\" $f \"*) ;;\n"
         "      *) if [ -e \"$f\" ]; then echo \"$f\" >>\"$SF_STATE/generated\"; fi ;;\n"
         "    esac\n"
         "  done\n"
         "fi\n";
}

std::string remove_generated_sh(const std::string& state_dir) {
  return "SF_STATE=" + shell_quote(state_dir) +
         "\n"
         "if [ -f \"$SF_STATE/generated\" ]; then\n"
         "  while IFS= read -r f; do\n"
         "    case \"$f\" in\n"
         "      /etc/slurm/* | /var/spool/slurmctld | /var/spool/slurmd | /var/log/slurm) rm -rf "
         "-- \"$f\" ;;\n"
         "    esac\n"
         "  done <\"$SF_STATE/generated\"\n"
         "fi\n"
         "rm -rf -- \"$SF_STATE\"\n"
         "rmdir /etc/slurm 2>/dev/null || true\n";
}

std::string profile_script(const std::string& root) {
  const std::string view = shell_quote(root + "/view");
  return "# Slurm's client commands on PATH and their manuals on MANPATH (slurm-factory).\n"
         "sf_view=" +
         view +
         "\n"
         "case \":${PATH}:\" in *\":${sf_view}/bin:\"*) ;; *) PATH=\"${PATH}:${sf_view}/bin\" ;; "
         "esac\n"
         "case \":${MANPATH:-}:\" in *\":${sf_view}/share/man:\"*) ;; *) "
         "MANPATH=\"${MANPATH:-}:${sf_view}/share/man\" ;; esac\n"
         "export PATH MANPATH\n"
         "unset sf_view\n";
}

}  // namespace sf::pkg
