-- -*- lua -*-
-- Slurm 24.11.5 for Debian GNU/Linux 13 (trixie) (trixie, amd64, cuda, rocm)
-- Built by slurm-factory 0.1.0. Relocatable: no LD_LIBRARY_PATH is needed, every
-- binary finds its libraries relative to itself.

whatis("Name: Slurm")
whatis("Version: 24.11.5")
whatis("Target: trixie (Debian GNU/Linux 13 (trixie)), amd64")
whatis("Description: Slurm workload manager (relocatable build by slurm-factory)")
whatis("URL: https://slurm.schedmd.com/")

-- Every rendered value sits inside a double-quoted string (the renderer escapes it for one):
-- never put a value tag inside a [[long string]] here.
help("Slurm 24.11.5 built for Debian GNU/Linux 13 (trixie) (amd64).\n" .. [[

The installation prefix is $SLURM_INSTALL_PREFIX when set (the folder holding view/),
otherwise the prefix chosen at install time by slurm_install.sh --prefix.

Sets: PATH (bin, sbin), MANPATH, SLURM_ROOT, SLURM_CONF (default /etc/slurm/slurm.conf).
Daemons: the units in <prefix>/data/slurm_assets/defaults start slurmd with
  -d <prefix>/view/sbin/slurmstepd (Slurm compiles the build prefix into slurmd).
Set up a host with: <prefix>/data/slurm_assets/slurm_install.sh --help
]])

family("workloadmanager")
conflict("slurm")

local install_root = os.getenv("SLURM_INSTALL_PREFIX")
if install_root == nil or install_root == "" then
  install_root = "/opt/slurm"
end
local root = pathJoin(install_root, "view")

prepend_path("PATH", pathJoin(root, "sbin"))
prepend_path("PATH", pathJoin(root, "bin"))
prepend_path("MANPATH", pathJoin(root, "share", "man"))
setenv("SLURM_ROOT", root)

local conf = os.getenv("SLURM_CONF")
if conf == nil or conf == "" then
  conf = "/etc/slurm/slurm.conf"
  setenv("SLURM_CONF", conf)
end
if mode() == "load" and not isFile(conf) then
  LmodMessage("slurm: " .. conf .. " does not exist; run " ..
              pathJoin(install_root, "data", "slurm_assets", "slurm_install.sh") ..
              " --init-only, or set SLURM_CONF")
end
