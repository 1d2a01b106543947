#pragma once
// Pages from templates. A template is a Mustache file under a `templates/` folder of src/
// (src/web/templates/, src/cabinet/templates/, src/providers/<name>/templates/), turned into a
// constant of the binary at build time (embed_files.cmake): nothing is read from disk at run
// time. A page builds its values as a Node tree and renders its template with them.
//
// Escaping is the default: {{name}} inserts a value escaped for HTML text and attribute values
// (web::escape). {{{name}}} inserts it as it is, and is only for HTML that another template
// rendered (a layout's {{{content}}}). {{#name}}…{{/name}} shows its inside for true, for a
// non-empty text and once for each item of a list (whose names come first while it does);
// {{^name}}…{{/name}} shows it for false, an empty text or an empty list. {{> web/head}}
// includes another template; {{t.title}} names a value inside an object.
//
// A line break and the indentation after it are left out of a template: templates are written one
// element per line and the pages come out as one line. Keep a space that matters inside a line.
//
// Strict: every name a template uses must be in its data (false, an empty text or an empty list
// where there is nothing to show), so that a forgotten or misspelt value is a failure instead of
// quietly nothing. render() logs each such problem, naming the template and the value, and aborts
// in builds with assertions (the Debug build of `make sanitize`, which runs every page test);
// render_checked() reports them (unit tests). A release build logs and renders on without the
// value rather than stop the payouts a page has nothing to do with.
//
// Only template.cc includes the template engine's header (kainjow's mustache.hpp, a large
// header-only library), so the pages' translation units stay small.
//
// Thread-safe: the templates are compiled once, on first use, and only read afterwards.
#include <concepts>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace payoutd::web {

// The integers a Node shows as decimal text: not bool (a flag) nor char.
template <typename T>
concept Integer = std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char>;

// A template's data: an object of named values, a text, a flag or a list.
class Node {
 public:
  struct Field;
  enum class Kind { kObject, kText, kFlag, kList };

  // An object of named values; Node() has none yet.
  Node() = default;
  Node(std::initializer_list<Field> fields);
  // A text. An empty one is false in a section: {{#error}}…{{/error}} shows only an error.
  Node(std::string text);
  Node(std::string_view text);
  Node(const char* text);
  // A number, as its decimal text.
  template <Integer Number>
  Node(Number number);
  // A flag.
  Node(bool flag);
  // An empty list, to push() items to: a section is repeated for each item.
  static Node list();

  // Adds a value to an object, or replaces the value of that name; returns the object.
  Node& set(std::string_view name, Node value);
  // Adds an item to a list; returns the list.
  Node& push(Node item);

  Kind kind() const { return kind_; }
  const std::string& text() const { return text_; }
  bool flag() const { return flag_; }
  const std::vector<Node>& items() const { return items_; }
  const std::vector<Field>& fields() const { return fields_; }

 private:
  Kind kind_ = Kind::kObject;
  bool flag_ = false;
  std::string text_;
  std::vector<Node> items_;
  std::vector<Field> fields_;
};

struct Node::Field {
  std::string name;
  Node value;
};

// Defined here, where Field is complete: a constructor's body needs its members' destructors.
inline Node::Node(std::string text) : kind_(Kind::kText), text_(std::move(text)) {}
inline Node::Node(std::string_view text) : kind_(Kind::kText), text_(text) {}
inline Node::Node(const char* text) : kind_(Kind::kText), text_(text) {}
template <Integer Number>
Node::Node(Number number) : Node(std::to_string(number)) {}
inline Node::Node(bool flag) : kind_(Kind::kFlag), flag_(flag) {}

// The template `name` rendered with `data`. A name is the template's path under src/ without
// "templates/" and ".mustache": "cabinet/login" is src/cabinet/templates/login.mustache. Every
// template may also use {{stylesheet}} and {{script}}, the paths of the pages' assets.
std::string render(std::string_view name, const Node& data);

struct Rendered {
  std::string html;
  // What the template used that `data` lacks ("t.title"; "> web/head" for a template it
  // includes that does not exist), or why it could not render; empty when it rendered whole.
  std::vector<std::string> problems;
};
// render() without logging or aborting: what it renders and the problems it meets.
Rendered render_checked(std::string_view name, const Node& data);

// Every embedded template's name.
std::vector<std::string> template_names();
// Templates that do not compile or include a template that does not exist, one line each.
std::vector<std::string> template_problems();

}  // namespace payoutd::web
