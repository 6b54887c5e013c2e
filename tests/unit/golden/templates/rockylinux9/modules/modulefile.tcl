#%Module1.0
## Slurm 23.02.7 for Rocky Linux 9 (rockylinux9, amd64)
## Built by slurm-factory 0.1.0. Relocatable: no LD_LIBRARY_PATH is needed.

# Every rendered value sits inside a double-quoted word (the renderer escapes it for one): never
# put a value tag inside braces or bare here.
proc ModulesHelp { } {
    puts stderr "Slurm 23.02.7 built for Rocky Linux 9 (amd64)."
    puts stderr ""
    puts stderr "The installation is found, in this order:"
    puts stderr "  1. \$SLURM_INSTALL_PREFIX when set: the folder holding view/, or the view itself (then"
    puts stderr "     nothing else is tried);"
    puts stderr "  2. this modulefile's own place (<prefix>/modules/slurm/<version>.tcl);"
    puts stderr "  3. the prefix slurm_install.sh --prefix wrote into this file."
    puts stderr "Loading fails, naming the paths tried, when none holds bin/scontrol."
    puts stderr ""
    puts stderr "Sets: PATH (bin, sbin), MANPATH, SLURM_ROOT, SLURM_CONF (default /etc/slurm/slurm.conf)."
    puts stderr "PATH gets only Slurm's and munge's programs: no other tool of the system is shadowed."
    puts stderr "Daemons: the units in <prefix>/data/slurm_assets/defaults start slurmd with"
    puts stderr "  -d <prefix>/view/sbin/slurmstepd (Slurm compiles the build prefix into slurmd)."
    puts stderr "Set up a host with: <prefix>/data/slurm_assets/slurm_install.sh --help"
}

module-whatis "Name: Slurm"
module-whatis "Version: 23.02.7"
module-whatis "Target: rockylinux9 (Rocky Linux 9), amd64"
module-whatis "Description: Slurm workload manager (relocatable build by slurm-factory)"

conflict slurm
if { [info commands family] ne "" } {
    family workloadmanager
}

# The folder holding view/ as built; slurm_install.sh --prefix rewrites this line's value.
set installed_root "/opt/slurm"

# "/a/b/" -> "/a/b"
proc slurm_strip_slashes { p } {
    set s [string trimright $p /]
    if { $s eq "" } { return / }
    return $s
}

# Candidates: {install root, view}, in order. SLURM_INSTALL_PREFIX, when set, is the only source
# (a wrong value fails rather than loading another Slurm).
set candidates {}
set from_env ""
if { [info exists env(SLURM_INSTALL_PREFIX)] } { set from_env $env(SLURM_INSTALL_PREFIX) }
if { $from_env ne "" } {
    set p [slurm_strip_slashes $from_env]
    lappend candidates [list $p [file join $p view]]
    lappend candidates [list [file dirname $p] $p]
} else {
    # <root>/modules/slurm/<file>
    set self_root [file dirname [file dirname [file dirname [file normalize $ModulesCurrentModulefile]]]]
    lappend candidates [list $self_root [file join $self_root view]]
    set baked [slurm_strip_slashes $installed_root]
    if { $baked ne $self_root } {
        lappend candidates [list $baked [file join $baked view]]
    }
}
set install_root ""
set tried {}
foreach c $candidates {
    set scontrol [file join [lindex $c 1] bin scontrol]
    lappend tried $scontrol
    if { $install_root eq "" && [file isfile $scontrol] } {
        set install_root [lindex $c 0]
        set root [lindex $c 1]
    }
}
if { $install_root eq "" } {
    if { [module-info mode load] } {
        if { $from_env ne "" } {
            set how "SLURM_INSTALL_PREFIX=$from_env holds no Slurm: set it to the folder holding view/ (or to the view itself), or unset it"
        } else {
            set how "set SLURM_INSTALL_PREFIX to the folder holding view/ (or to the view itself), or run <prefix>/data/slurm_assets/slurm_install.sh --prefix <prefix>"
        }
        error "slurm: no Slurm installation found (tried [join $tried {, }]); $how"
    }
    # Unload, help, avail: the first candidate, so that an unload undoes what the load did.
    set install_root [lindex [lindex $candidates 0] 0]
    set root [lindex [lindex $candidates 0] 1]
}

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
