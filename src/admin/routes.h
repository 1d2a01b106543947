#pragma once
// Route tables of the admin API and of the providers' admin sections: each route a path pattern,
// the methods it answers and the member function that answers them. A path that matches a
// pattern but none of its methods is answered 405; one that matches no pattern, 404.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "admin/actor.h"
#include "admin/answers.h"

namespace payoutd::admin {

enum class Match : std::uint8_t {
  kWhole,   // the path is the pattern
  kPrefix,  // the path starts with the pattern and may go on
};

// Whether `path` (percent-decoded segments) matches `pattern`: '/'-separated segments, "*"
// standing for any one segment, anything else for itself ("funders/*/credits/*").
bool path_matches(std::string_view pattern, std::span<const std::string> path,
                  Match match = Match::kWhole);

// Whether `method` is one of `methods` (space-separated: "GET HEAD").
bool method_listed(std::string_view methods, std::string_view method);

template <class Answer>
struct Route {
  Role role;                      // what the caller must hold (admin/actor.h)
  std::string_view methods;       // space-separated: "POST PUT"
  std::string_view pattern;       // as path_matches reads it
  std::string_view wrong_method;  // the 405's description, for every other method
  Answer answer;                  // what answers the route's methods
};

// What a table holds for a request: `route` answers it when `method_allowed`; otherwise `route`
// is the first route whose pattern the path matched (the 405's), or nullptr (404).
template <class Answer>
struct Routed {
  const Route<Answer>* route = nullptr;
  bool method_allowed = false;
};

template <class Answer, std::size_t N>
Routed<Answer> find_route(const Route<Answer> (&routes)[N], std::string_view method,
                          std::span<const std::string> path) {
  Routed<Answer> found;
  for (const Route<Answer>& r : routes) {
    if (!path_matches(r.pattern, path)) continue;
    if (method_listed(r.methods, method)) return {&r, true};
    if (!found.route) found.route = &r;
  }
  return found;
}

// Whether `actor` may be answered by the route `found` names (REQUIRES: found.route); else it has
// been answered: 405 for another method of the route's path, 403 without the route's role.
template <class Answer>
bool admit(const Routed<Answer>& found, const Actor& actor, const http::Responder& respond) {
  if (!found.method_allowed) {
    respond(error(405, "method.not.allowed", found.route->wrong_method));
    return false;
  }
  if (!actor.roles.has(found.route->role)) {
    respond(role_missing(found.route->role));
    return false;
  }
  return true;
}

}  // namespace payoutd::admin
