#pragma once
// The template files as constants of the binary: embed_templates.cmake writes their definition at
// build time from src/**/templates/*.mustache. Only web/template.cc reads them.
#include <span>
#include <string_view>

namespace payoutd::web {

struct EmbeddedTemplate {
  std::string_view name;  // "cabinet/login" for src/cabinet/templates/login.mustache
  std::string_view text;  // the file as it is
};

// Every template file.
std::span<const EmbeddedTemplate> embedded_templates();

}  // namespace payoutd::web
