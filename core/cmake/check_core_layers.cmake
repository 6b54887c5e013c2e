# Script mode: cmake -DSRC=<core/src> -P check_core_layers.cmake
# The layer check of configure time, without configuring: every folder's DEPENDS must name folders
# declared before it, and its includes must stay within what it depends on. Prints PASS or fails.
cmake_minimum_required(VERSION 3.20)
if(NOT SRC)
  message(FATAL_ERROR "usage: cmake -DSRC=<core/src> -P check_core_layers.cmake")
endif()
include(${CMAKE_CURRENT_LIST_DIR}/CoreLayers.cmake)
include(${SRC}/layers.cmake)

sf_core_folders(_known "${SRC}" ${SF_CORE_LAYERS})

# The folders' own CMakeLists.txt call this; here it only checks.
function(sf_core_subsystem name)
  cmake_parse_arguments(S "" "" "DEPENDS;LIBRARIES" ${ARGN})
  sf_core_layer_closure(_allowed ${name} ${S_DEPENDS})
  sf_core_layer_check(NAME ${name} DIR "${SRC}/${name}" ALLOWED ${_allowed} KNOWN ${_known}
    ERRORS _errors)
  set_property(GLOBAL APPEND PROPERTY SF_CORE_LAYER_ERRORS ${_errors})
endfunction()

foreach(_layer IN LISTS SF_CORE_LAYERS)
  include("${SRC}/${_layer}/CMakeLists.txt")
endforeach()
get_property(_errors GLOBAL PROPERTY SF_CORE_LAYER_ERRORS)
if(_errors)
  string(REPLACE ";" "\n" _text "${_errors}")
  message("${_text}")
  message(FATAL_ERROR "FAIL: upward or undeclared dependency in the core (above)")
endif()
list(LENGTH SF_CORE_LAYERS _count)
message("PASS: ${_count} core layers, every include within its folder's dependencies")
