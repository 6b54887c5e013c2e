-- -*- lua -*-
-- Slurm 24.11.5 for Debian GNU/Linux 12 (bookworm) (bookworm, amd64)
-- Built by slurm-factory 0.1.0. Relocatable: no LD_LIBRARY_PATH is needed, every
-- binary finds its libraries relative to itself.

whatis("Name: Slurm")
whatis("Version: 24.11.5")
whatis("Target: bookworm (Debian GNU/Linux 12 (bookworm)), amd64")
whatis("Description: Slurm workload manager (relocatable build by slurm-factory)")
whatis("URL: https://slurm.schedmd.com/")

-- Every rendered value sits inside a double-quoted string (the renderer escapes it for one):
-- never put a value tag inside a [[long string]] here.
help("Slurm 24.11.5 built for Debian GNU/Linux 12 (bookworm) (amd64).\n" .. [[

The installation is found, in this order:
  1. $SLURM_INSTALL_PREFIX when set: the folder holding view/, or the view itself (then nothing
     else is tried);
  2. this modulefile's own place (<prefix>/modules/slurm/<version>.lua);
  3. the prefix slurm_install.sh --prefix wrote into this file.
Loading fails, naming the paths tried, when none holds bin/scontrol.

Sets: PATH (bin, sbin), MANPATH, SLURM_ROOT, SLURM_CONF (default /etc/slurm/slurm.conf).
PATH gets only Slurm's and munge's programs: no other tool of the system is shadowed.
Daemons: the units in <prefix>/data/slurm_assets/defaults start slurmd with
  -d <prefix>/view/sbin/slurmstepd (Slurm compiles the build prefix into slurmd).
Set up a host with: <prefix>/data/slurm_assets/slurm_install.sh --help
]])

family("workloadmanager")
conflict("slurm")

-- The folder holding view/ as built; slurm_install.sh --prefix rewrites this line's value.
local installed_root = "/opt/slurm"

-- "/a/b/" -> "/a/b"; "/a/b" -> "/a"
local function strip_slashes(p)
  local s = p:gsub("/+$", "")
  if s == "" then return "/" end
  return s
end
local function parent(p)
  local d = strip_slashes(p):match("^(.*)/[^/]*$")
  if d == nil or d == "" then return "/" end
  return d
end

-- Candidates: {install root, view}, in order. SLURM_INSTALL_PREFIX, when set, is the only source
-- (a wrong value fails rather than loading another Slurm).
local candidates = {}
local from_env = os.getenv("SLURM_INSTALL_PREFIX")
if from_env ~= nil and from_env ~= "" then
  local p = strip_slashes(from_env)
  candidates[#candidates + 1] = {p, pathJoin(p, "view")}
  candidates[#candidates + 1] = {parent(p), p}
else
  local self_root = parent(parent(parent(myFileName())))  -- <root>/modules/slurm/<file>
  candidates[#candidates + 1] = {self_root, pathJoin(self_root, "view")}
  if strip_slashes(installed_root) ~= self_root then
    candidates[#candidates + 1] = {strip_slashes(installed_root),
                                   pathJoin(strip_slashes(installed_root), "view")}
  end
end
local install_root, root
local tried = {}
for _, c in ipairs(candidates) do
  local scontrol = pathJoin(c[2], "bin", "scontrol")
  tried[#tried + 1] = scontrol
  if install_root == nil and isFile(scontrol) then
    install_root, root = c[1], c[2]
  end
end
if install_root == nil then
  if mode() == "load" then
    local how = (from_env ~= nil and from_env ~= "")
        and "SLURM_INSTALL_PREFIX=" .. from_env .. " holds no Slurm: set it to the folder holding view/ (or to the view itself), or unset it"
        or "set SLURM_INSTALL_PREFIX to the folder holding view/ (or to the view itself), or run <prefix>/data/slurm_assets/slurm_install.sh --prefix <prefix>"
    LmodError("slurm: no Slurm installation found (tried " .. table.concat(tried, ", ") ..
              "); " .. how)
  end
  -- Unload, help, spider: the first candidate, so that an unload undoes what the load did.
  install_root, root = candidates[1][1], candidates[1][2]
end

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
