# Writes OUTPUT, a C++ file that defines web::FUNCTION() (web/embedded_files.h): each file of FILES
# (paths under SOURCE_DIR/src, separated by "|") as a constant, named by its path under src/
# without "templates/" and ".mustache" (src/cabinet/templates/login.mustache is "cabinet/login",
# src/web/assets/payment.js is "web/assets/payment.js"). The page templates and the pages' static
# assets are embedded this way. Every byte is written as a \x escape, so no file content can end
# the string. The output is replaced only when it changes, so unchanged files rebuild nothing.
cmake_minimum_required(VERSION 3.25)

string(REPLACE "|" ";" file_paths "${FILES}")
set(entries "")
# 24 bytes to a line of the output.
set(line_pattern "")
foreach(i RANGE 1 24)
  string(APPEND line_pattern "\\\\x[0-9a-f][0-9a-f]")
endforeach()
foreach(path IN LISTS file_paths)
  file(RELATIVE_PATH relative "${SOURCE_DIR}/src" "${path}")
  string(REPLACE "templates/" "" name "${relative}")
  string(REGEX REPLACE "\\.mustache$" "" name "${name}")
  file(READ "${path}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
  string(REGEX REPLACE "(${line_pattern})" "\\1\"\n        \"" escaped "${escaped}")
  string(APPEND entries "    {\"${name}\",\n     std::string_view(\"${escaped}\", ${size})},\n")
endforeach()

set(code "// Written by src/web/embed_files.cmake from the files it names: do not edit.
#include \"web/embedded_files.h\"

namespace payoutd::web {
namespace {

constexpr EmbeddedFile kFiles[] = {
${entries}};

}  // namespace

std::span<const EmbeddedFile> ${FUNCTION}() { return kFiles; }

}  // namespace payoutd::web
")
file(WRITE "${OUTPUT}.new" "${code}")
file(COPY_FILE "${OUTPUT}.new" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.new")
