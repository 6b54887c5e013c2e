# Script mode: cmake -DINPUT=file -DOUTPUT=out.cpp -DSYMBOL=name -P SlurmFactoryEmbed.cmake
file(READ "${INPUT}" _hex HEX)
string(LENGTH "${_hex}" _len)
math(EXPR _size "${_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _bytes "${_hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){32})" "\\1\n" _bytes "${_bytes}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT}; do not edit.\n"
  "extern \"C\" {\n"
  "__attribute__((visibility(\"hidden\"))) extern const char ${SYMBOL}[];\n"
  "__attribute__((visibility(\"hidden\"))) extern const unsigned long ${SYMBOL}_size;\n"
  "const char ${SYMBOL}[] = {\n${_bytes}0x00};\n"
  "const unsigned long ${SYMBOL}_size = ${_size};\n"
  "}\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
