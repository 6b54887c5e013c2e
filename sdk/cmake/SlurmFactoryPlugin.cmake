# CMake helpers for slurm-factory plugins, used in-tree and by out-of-tree plugins through the
# installed package (find_package(SlurmFactory)).
#
#   slurm_factory_add_plugin(<name> SOURCES a.cpp b.cpp [EMBED <symbol>=<file> ...] [LINK libs...]
#                            [INSTALL_DIR <dir>] [NO_INSTALL])
#       builds lib<name>.so with -fvisibility=hidden against the core library. Name it
#       sf-<kind>-<plugin> (kind: toolchain, backend, cache, packager, feature) so the file is
#       libsf-<kind>-<plugin>.so and configs can load it as "<kind>-<plugin>". In-tree it lands in
#       the build tree's plugin directory and is installed beside the shipped plugins. Out-of-tree it
#       lands in the current binary directory and installs to
#       <prefix>/<libdir>/slurm-factory/plugins (or INSTALL_DIR): installed with the same prefix as
#       slurm-factory, the binary finds it with no configuration. NO_INSTALL skips the install rule.
#   slurm_factory_embed_file(<target> <symbol> <file>)
#       compiles <file> into <target> as `extern "C" const char <symbol>[]; extern "C" const
#       unsigned long <symbol>_size;` (NUL-terminated), regenerated when the file changes.

set(_SF_EMBED_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/SlurmFactoryEmbed.cmake")

function(slurm_factory_embed_file target symbol file)
  get_filename_component(_abs "${file}" ABSOLUTE)
  set(_out "${CMAKE_CURRENT_BINARY_DIR}/embed/${symbol}.cpp")
  add_custom_command(
    OUTPUT "${_out}"
    COMMAND "${CMAKE_COMMAND}" -DINPUT=${_abs} -DOUTPUT=${_out} -DSYMBOL=${symbol}
            -P "${_SF_EMBED_SCRIPT}"
    DEPENDS "${_abs}" "${_SF_EMBED_SCRIPT}"
    COMMENT "Embedding ${file} as ${symbol}"
    VERBATIM)
  target_sources(${target} PRIVATE "${_out}")
endfunction()

function(slurm_factory_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "INSTALL_DIR" "SOURCES;EMBED;LINK" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "slurm_factory_add_plugin(${name}): no SOURCES given")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  if(TARGET slurm-factory-core)
    target_link_libraries(${name} PRIVATE slurm-factory-core)
  else()
    target_link_libraries(${name} PRIVATE SlurmFactory::core)
  endif()
  if(ARG_LINK)
    target_link_libraries(${name} PRIVATE ${ARG_LINK})
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    CXX_STANDARD 20
    CXX_STANDARD_REQUIRED ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(DEFINED SF_WARNING_FLAGS)
    target_compile_options(${name} PRIVATE ${SF_WARNING_FLAGS})
  endif()
  foreach(_pair IN LISTS ARG_EMBED)
    string(REPLACE "=" ";" _kv "${_pair}")
    list(GET _kv 0 _sym)
    list(GET _kv 1 _file)
    slurm_factory_embed_file(${name} ${_sym} ${_file})
  endforeach()
  # Installed plugins find the core library two levels up (<libdir>/slurm-factory/plugins).
  set_target_properties(${name} PROPERTIES INSTALL_RPATH "$ORIGIN/../..")
  if(DEFINED SF_PLUGIN_OUTPUT_DIRECTORY)
    # In-tree: build-tree layout mirrors the install layout.
    set_target_properties(${name} PROPERTIES
      LIBRARY_OUTPUT_DIRECTORY "${SF_PLUGIN_OUTPUT_DIRECTORY}"
      BUILD_RPATH "$ORIGIN/../..")
    set(_dest "${SF_PLUGIN_SUBDIR}")
  else()
    include(GNUInstallDirs)
    set(_dest "${CMAKE_INSTALL_LIBDIR}/slurm-factory/plugins")
  endif()
  if(ARG_INSTALL_DIR)
    set(_dest "${ARG_INSTALL_DIR}")
  endif()
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${name} LIBRARY DESTINATION "${_dest}")
  endif()
endfunction()
