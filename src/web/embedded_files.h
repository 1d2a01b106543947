#pragma once
// Files of src/ as constants of the binary: embed_files.cmake writes their definitions at build
// time. Only web/template.cc reads the templates and only web/assets.cc the assets.
#include <span>
#include <string_view>

namespace payoutd::web {

struct EmbeddedFile {
  std::string_view name;  // "cabinet/login" for src/cabinet/templates/login.mustache
  std::string_view text;  // the file as it is
};

// Every template file: src/**/templates/*.mustache.
std::span<const EmbeddedFile> embedded_templates();

// Every static asset of the pages: src/web/assets/*.
std::span<const EmbeddedFile> embedded_assets();

}  // namespace payoutd::web
