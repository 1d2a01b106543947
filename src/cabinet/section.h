#pragma once
// A section of the cabinet that a provider adds for its own tenants (the Bereke partners' "My
// cards" and "KNP value"): its pages in the navigation, and its routes, each with the role it
// needs (roles.h). The cabinet does the rest before it calls a route: the session (signed in, not
// expired), the language, for a POST the origin and the session's CSRF token, and the role; a
// user without it gets 403 and a line in the audit log, and never reaches the route.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cabinet/roles.h"
#include "cabinet/view.h"
#include "core/tenant.h"
#include "http/server.h"
#include "web/forms.h"

namespace payoutd::cabinet {

enum class Method : std::uint8_t {
  kGet,   // GET and HEAD: a page
  kPost,  // a form
};

// What a route is called with: the request, and a POST's form (its CSRF token checked already;
// empty for a GET).
struct Call {
  const http::Request& request;
  const web::FormParams& form;
};

// One page or form of the cabinet: its method and exact path, the role a user needs for it, and
// what answers it (through the View, at once or later).
struct Route {
  Method method = Method::kGet;
  std::string path;
  Role needs = Role::kViewer;
  std::function<void(View& v, const Call& call)> answer;
};

class Section {
 public:
  virtual ~Section() = default;
  // Whether sessions of `tenant` have this section (a provider's section serves its tenants).
  virtual bool serves(const Tenant& tenant) const = 0;
  // Its pages in the navigation, labelled in `lang` ("ru" or "en"), each the path of one of its
  // GET routes: shown to the users whose roles that route allows.
  virtual std::vector<NavEntry> nav(std::string_view lang) const = 0;
  // Its routes; asked once, when the section is added (Pages::add_section).
  virtual std::vector<Route> routes() = 0;
};

}  // namespace payoutd::cabinet
