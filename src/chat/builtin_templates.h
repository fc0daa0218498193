// The template descriptions in templates/*.json, compiled into the binary by the build
// (cmake/embed_templates.cmake).
#pragma once

#include <string_view>
#include <vector>

namespace tokalign::chat {

struct TemplateSource {
  std::string_view file;  // "templates/v1.json"
  std::string_view json;
};

std::vector<TemplateSource> builtin_template_sources();

}  // namespace tokalign::chat
