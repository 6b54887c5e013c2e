# The core's subsystems, bottom first: a folder may use only folders listed above it, and only those
# it names in DEPENDS. Read by core/src/CMakeLists.txt and by core/cmake/check_core_layers.cmake.
set(SF_CORE_LAYERS
  support      # errors, log, files, inputs, templates, SHA-256
  formats      # archives, ELF, build contexts
  signing      # gpgme
  net          # HTTP
  config       # the config, requests, pipelines
  plugin_host  # plugins and the registry
  app          # one invocation's config and plugins
  recipes      # recipes, planner, package hashes
  containers   # hermetic runs, cleaning up
  toolchains   # toolchain families and images
  cache        # the layered binary cache
  artifact     # views, relocation, packaging, verification
  build        # the build executor
  pipeline     # build-slurm and run
  cli)         # the commands
