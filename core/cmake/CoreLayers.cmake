# The core's subsystems are layers: each folder of core/src is an object library that may use only
# the folders it names in DEPENDS (and what those use), and only folders declared before it in
# core/src/CMakeLists.txt (bottom first). CMake refuses anything else at configure time:
#   - a DEPENDS on a folder declared later (an upward dependency),
#   - an #include "<folder>/<file>.hpp" of a core folder the subsystem does not depend on.
# tests/unit/core_layers_test.sh runs the same include check in script mode, so an include added
# without a reconfigure still fails the test suite.

# sf_core_layer_check(NAME <name> DIR <dir> ALLOWED <folders...> [ERRORS <var>])
# Appends one line per include of a core folder outside ALLOWED to <var> (or fails at once).
function(sf_core_layer_check)
  cmake_parse_arguments(L "" "NAME;DIR;ERRORS" "ALLOWED;KNOWN" ${ARGN})
  file(GLOB _files "${L_DIR}/*.cpp" "${L_DIR}/*.hpp")
  string(REPLACE ";" ", " _allowed_text "${L_ALLOWED}")
  set(_errors "")
  foreach(_file IN LISTS _files)
    file(STRINGS "${_file}" _includes REGEX "^#include \"[a-z_]+/[a-z0-9_]+\\.hpp\"")
    foreach(_include IN LISTS _includes)
      string(REGEX REPLACE "^#include \"([a-z_]+)/.*$" "\\1" _folder "${_include}")
      if(_folder IN_LIST L_KNOWN AND NOT _folder IN_LIST L_ALLOWED)
        list(APPEND _errors
          "${_file}: ${_include}: core/src/${L_NAME} does not depend on core/src/${_folder} (allowed: ${_allowed_text}); move the shared code down into a folder both use, or name ${_folder} in DEPENDS if it is below ${L_NAME}")
      endif()
    endforeach()
  endforeach()
  if(L_ERRORS)
    set(${L_ERRORS} "${_errors}" PARENT_SCOPE)
  elseif(_errors)
    string(REPLACE ";" "\n" _text "${_errors}")
    message("${_text}")
    message(FATAL_ERROR "upward or undeclared dependency in the core (above)")
  endif()
endfunction()

# sf_core_layer_closure(<out> <name> <depends...>): name plus every folder its DEPENDS reach.
# Fails when a dependency is not declared yet (it is above, or does not exist).
function(sf_core_layer_closure out name)
  set(_allowed ${name})
  foreach(_dep IN LISTS ARGN)
    get_property(_declared GLOBAL PROPERTY SF_CORE_LAYER_${_dep} SET)
    if(NOT _declared)
      message(FATAL_ERROR
        "core/src/${name} may not depend on '${_dep}': it is declared after ${name} in "
        "core/src/CMakeLists.txt (so it is a layer above) or is not a core folder. Move the code "
        "${name} needs from ${_dep} down, or move ${name} above ${_dep}.")
    endif()
    get_property(_reach GLOBAL PROPERTY SF_CORE_LAYER_${_dep})
    list(APPEND _allowed ${_reach})
  endforeach()
  list(REMOVE_DUPLICATES _allowed)
  set_property(GLOBAL PROPERTY SF_CORE_LAYER_${name} "${_allowed}")
  set(${out} "${_allowed}" PARENT_SCOPE)
endfunction()

# sf_core_folders(<out> <core/src dir> <layers...>): the folders of core/src. Fails when one is not
# among the layers (its sources would otherwise be left out of the build without a word).
function(sf_core_folders out src)
  file(GLOB _entries LIST_DIRECTORIES true "${src}/*")
  set(_known "")
  foreach(_entry IN LISTS _entries)
    if(IS_DIRECTORY "${_entry}")
      get_filename_component(_name "${_entry}" NAME)
      list(APPEND _known ${_name})
    endif()
  endforeach()
  foreach(_folder IN LISTS _known)
    if(NOT _folder IN_LIST ARGN)
      message(FATAL_ERROR
        "core/src/${_folder} is not listed in ${src}/layers.cmake: add it at its layer")
    endif()
  endforeach()
  set(${out} "${_known}" PARENT_SCOPE)
endfunction()
