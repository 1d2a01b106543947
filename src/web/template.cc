#include "web/template.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <kainjow/mustache.hpp>
#include <map>

#include "core/assert.h"
#include "web/assets.h"
#include "web/embedded_files.h"
#include "web/html.h"

namespace payoutd::web {
namespace {

using Data = kainjow::mustache::data;
using Mustache = kainjow::mustache::mustache;

// A template's text without its line breaks and the indentation after each.
std::string joined_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (text[i] != '\n') {
      out.push_back(text[i]);
      continue;
    }
    while (i + 1 < text.size() && (text[i + 1] == ' ' || text[i + 1] == '\t')) ++i;
  }
  return out;
}

// How an include tag opens and any tag closes: {{> name}}.
constexpr std::string_view kIncludeOpen = "{{>";
constexpr std::string_view kTagClose = "}}";

// The names of the templates `text` includes.
std::vector<std::string> included_names(std::string_view text) {
  std::vector<std::string> names;
  for (std::size_t at = text.find(kIncludeOpen); at != std::string_view::npos;
       at = text.find(kIncludeOpen, at + kIncludeOpen.size())) {
    const std::size_t end = text.find(kTagClose, at);
    if (end == std::string_view::npos) break;
    const std::size_t name_at = at + kIncludeOpen.size();
    std::string_view name = text.substr(name_at, end - name_at);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    names.emplace_back(name);
  }
  return names;
}

// Every template compiled once: as a page (compiled) and as the text another template includes
// (partials; the engine compiles an included template where it is used).
struct Library {
  std::map<std::string, Mustache, std::less<>> compiled;
  std::map<std::string, Data, std::less<>> partials;
  std::vector<std::string> problems;
  Data globals;

  Library() {
    for (const EmbeddedFile& t : embedded_templates()) {
      const std::string text = joined_lines(t.text);
      Mustache m(text);
      m.set_custom_escape([](const std::string& s) { return escape(s); });
      if (!m.is_valid()) problems.push_back(std::string(t.name) + ": " + m.error_message());
      compiled.emplace(std::string(t.name), std::move(m));
      partials.emplace(std::string(t.name), Data(text));
    }
    for (const EmbeddedFile& t : embedded_templates()) {
      for (const std::string& name : included_names(t.text)) {
        if (!partials.contains(name))
          problems.push_back(std::string(t.name) + ": includes " + name + ", no template");
      }
    }
    globals.set("stylesheet", Data(std::string(kStylesheetPath)));
    globals.set("script", Data(std::string(kScriptPath)));
  }
};

Library& library() {
  static Library instance;
  return instance;
}

// The engine's data for a node. An empty text becomes false, which renders as nothing in
// {{name}} and hides {{#name}}: the engine itself treats every text as true.
Data to_data(const Node& node) {
  switch (node.kind()) {
    case Node::Kind::kText:
      return node.text().empty() ? Data(false) : Data(node.text());
    case Node::Kind::kFlag:
      return Data(node.flag());
    case Node::Kind::kList: {
      kainjow::mustache::list items;
      items.reserve(node.items().size());
      for (const Node& item : node.items()) items.push_back(to_data(item));
      return Data(items);
    }
    case Node::Kind::kObject:
      break;
  }
  Data object;
  for (const Node::Field& f : node.fields()) object[f.name] = to_data(f.value);
  return object;
}

// The engine's lookup of names, which notes each name that no level of the data has instead of
// rendering it as nothing, and finds included templates among the embedded ones.
class StrictContext final : public kainjow::mustache::context<std::string> {
 public:
  StrictContext(const Library& lib, std::vector<std::string>& problems)
      : lib_(lib), problems_(problems) {}

  const Data* get(const std::string& name) const override {
    const Data* found = context::get(name);
    if (found == nullptr) note(name);
    return found;
  }
  const Data* get_partial(const std::string& name) const override {
    const auto it = lib_.partials.find(name);
    if (it != lib_.partials.end()) return &it->second;
    note("> " + name);
    return nullptr;
  }

 private:
  void note(std::string problem) const {
    if (std::find(problems_.begin(), problems_.end(), problem) == problems_.end()) {
      problems_.push_back(std::move(problem));
    }
  }
  const Library& lib_;
  std::vector<std::string>& problems_;
};

}  // namespace

Node::Node(std::initializer_list<Field> fields) : fields_(fields) {}

Node Node::list() {
  Node n;
  n.kind_ = Kind::kList;
  return n;
}

Node& Node::set(std::string_view name, Node value) {
  PAYOUTD_ASSERT(kind_ == Kind::kObject, "only an object has named values");
  for (Field& f : fields_) {
    if (f.name == name) {
      f.value = std::move(value);
      return *this;
    }
  }
  fields_.push_back({std::string(name), std::move(value)});
  return *this;
}

Node& Node::push(Node item) {
  PAYOUTD_ASSERT(kind_ == Kind::kList, "only a list has items");
  items_.push_back(std::move(item));
  return *this;
}

Rendered render_checked(std::string_view name, const Node& data) {
  Rendered out;
  Library& lib = library();
  const auto it = lib.compiled.find(name);
  if (it == lib.compiled.end()) {
    out.problems.push_back("no template " + std::string(name));
    return out;
  }
  Mustache& m = it->second;
  if (!m.is_valid()) {
    out.problems.push_back(m.error_message());
    return out;
  }
  const Data root = to_data(data);
  StrictContext context(lib, out.problems);
  context.push(&lib.globals);
  context.push(&root);
  out.html = m.render(context);
  return out;
}

std::string render(std::string_view name, const Node& data) {
  Rendered r = render_checked(name, data);
  for (const std::string& problem : r.problems) {
    spdlog::error("template {}: {}", name, problem);
  }
#ifndef NDEBUG
  PAYOUTD_ASSERT(r.problems.empty(), "a template uses a value its data lacks (logged above)");
#endif
  return std::move(r.html);
}

std::vector<std::string> template_names() {
  std::vector<std::string> names;
  for (const auto& [name, compiled] : library().compiled) names.push_back(name);
  return names;
}

std::vector<std::string> template_problems() { return library().problems; }

}  // namespace payoutd::web
