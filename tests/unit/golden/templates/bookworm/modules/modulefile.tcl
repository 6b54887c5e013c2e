#%Module1.0
## Slurm 24.11.5 for Debian GNU/Linux 12 (bookworm) (bookworm, amd64)
## Built by slurm-factory 0.1.0. Relocatable: no LD_LIBRARY_PATH is needed.

# Every rendered value sits inside a double-quoted word (the renderer escapes it for one): never
# put a value tag inside braces or bare here.
proc ModulesHelp { } {
    puts stderr "Slurm 24.11.5 built for Debian GNU/Linux 12 (bookworm) (amd64)."
    puts stderr ""
    puts stderr "The installation prefix is \$SLURM_INSTALL_PREFIX when set (the folder holding view/),"
    puts stderr "otherwise the prefix chosen at install time by slurm_install.sh --prefix."
    puts stderr "Sets: PATH (bin, sbin), MANPATH, SLURM_ROOT, SLURM_CONF (default /etc/slurm/slurm.conf)."
    puts stderr "Daemons: the units in <prefix>/data/slurm_assets/defaults start slurmd with"
    puts stderr "  -d <prefix>/view/sbin/slurmstepd (Slurm compiles the build prefix into slurmd)."
    puts stderr "Set up a host with: <prefix>/data/slurm_assets/slurm_install.sh --help"
}

module-whatis "Name: Slurm"
module-whatis "Version: 24.11.5"
module-whatis "Target: bookworm (Debian GNU/Linux 12 (bookworm)), amd64"
module-whatis "Description: Slurm workload manager (relocatable build by slurm-factory)"

conflict slurm
if { [info commands family] ne "" } {
    family workloadmanager
}

if { [info exists env(SLURM_INSTALL_PREFIX)] && $env(SLURM_INSTALL_PREFIX) ne "" } {
    set install_root $env(SLURM_INSTALL_PREFIX)
} else {
    set install_root "/opt/slurm"
}
set root [file join $install_root view]

prepend-path PATH [file join $root sbin]
prepend-path PATH [file join $root bin]
prepend-path MANPATH [file join $root share man]
setenv SLURM_ROOT $root

if { [info exists env(SLURM_CONF)] && $env(SLURM_CONF) ne "" } {
    set conf $env(SLURM_CONF)
} else {
    set conf /etc/slurm/slurm.conf
    setenv SLURM_CONF $conf
}
if { [module-info mode load] && ![file exists $conf] } {
    puts stderr "slurm: $conf does not exist; run [file join $install_root data slurm_assets slurm_install.sh] --init-only, or set SLURM_CONF"
}
