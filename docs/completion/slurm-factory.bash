# bash completion for slurm-factory. Installed to share/bash-completion/completions/slurm-factory.
_slurm_factory() {
  local cur prev words cword
  _init_completion 2>/dev/null || {
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  }
  local global="-v --verbose -q --quiet --json --config --profile --help"
  local commands="build-slurm plan fetch toolchains toolchain plugins config cache clean verify run version"
  case "$prev" in
    --toolchain)
      local names
      names=$(slurm-factory toolchains list --json 2>/dev/null | grep -o '"name": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/')
      mapfile -t COMPREPLY < <(compgen -W "${names:-noble jammy resolute rockylinux8 rockylinux9 rockylinux10 bookworm trixie}" -- "$cur")
      return ;;
    --slurm-version) mapfile -t COMPREPLY < <(compgen -W "22.05 23.11 24.11 25.11 26.05" -- "$cur"); return ;;
    --gpu) mapfile -t COMPREPLY < <(compgen -W "cuda rocm oneapi cuda,rocm" -- "$cur"); return ;;
    --emit) mapfile -t COMPREPLY < <(compgen -W "github-matrix gitlab" -- "$cur"); return ;;
    --publish) mapfile -t COMPREPLY < <(compgen -W "none cache all" -- "$cur"); return ;;
    --backend) mapfile -t COMPREPLY < <(compgen -W "docker podman" -- "$cur"); return ;;
    --config|--output|--local-cache) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
  esac
  if [ "$cword" -eq 1 ]; then
    mapfile -t COMPREPLY < <(compgen -W "$commands $global" -- "$cur")
    return
  fi
  case "${words[1]}" in
    build-slurm|plan|fetch)
      mapfile -t COMPREPLY < <(compgen -W "--slurm-version --toolchain --gpu --publish --signing-key --local-cache --no-cache --verify --backend --jobs --output --dry-run --with-dev $global" -- "$cur") ;;
    toolchains) mapfile -t COMPREPLY < <(compgen -W "list show prepare $global" -- "$cur") ;;
    toolchain) mapfile -t COMPREPLY < <(compgen -W "prepare $global" -- "$cur") ;;
    plugins) mapfile -t COMPREPLY < <(compgen -W "list $global" -- "$cur") ;;
    config) mapfile -t COMPREPLY < <(compgen -W "show $global" -- "$cur") ;;
    run) mapfile -t COMPREPLY < <(compgen -W "--dry-run --parallel --only --keep-going --report --emit --cell --backend --output --verify $global" -- "$cur") ;;
    cache) mapfile -t COMPREPLY < <(compgen -W "list push pull verify gc index keys $global" -- "$cur") ;;
    clean) mapfile -t COMPREPLY < <(compgen -W "--full --dry-run --force --backend --label $global" -- "$cur") ;;
    *) mapfile -t COMPREPLY < <(compgen -W "$global" -- "$cur") ;;
  esac
}
complete -F _slurm_factory slurm-factory
