#pragma once
// The kit of the console's working pages (docs/console.md, "Pages"). A page never does what the
// admin API does: it calls the admin API's own routes in-process (admin::Dialect::serve_as) as the
// signed-in member (Actor{member login, member roles, via "console", client address}), so that
// role checks, validation, the operators' audit log and maker-checker are one piece of code, and
// turns the answers into HTML.
//
// A page file registers its pages with Pages::add_page (console/pages.h) from one function of its
// own, called by add_pages (console/page_list.cc):
//
//   pages.add_page({.prefix = "/console/partners", .label = "Partners",
//                   .needs = admin::Role::kViewer, .serve = &serve_partners});
//
// Pages answers a signed-in member's GET or POST of `prefix` or of a path under it with `serve`,
// once it has checked the member holds `needs` (else a 403 page) and, for a POST, the form's CSRF
// token and origin. `serve` gets a Context and answers through it exactly once, possibly later
// from another thread:
//
//   void serve_partners(const Context& c) {
//     c.admin("GET", "tenants?provider=" + cabinet::url_encode(c.query("provider")), {},
//             [c](const AdminAnswer& a) {
//               if (!a.ok()) return c.failed(a);
//               c.render(200, "Partners", "console/partners", {{"items", ...}});
//             });
//   }
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "admin/actor.h"
#include "console/staff.h"
#include "core/json.h"
#include "http/server.h"
#include "web/forms.h"
#include "web/template.h"

namespace payoutd::admin {
class Dialect;
}

namespace payoutd::console {

// What a call of the admin API answered.
struct AdminAnswer {
  http::Response response;  // as the API answered it (a CSV statement is passed on as it is)
  json::Value json;         // its body parsed; null when it is not JSON
  bool ok() const { return response.status >= 200 && response.status < 300; }
  int status() const { return response.status; }
  // The admin envelope's errorCode of an error answer, and its description followed by the code
  // ("a request is decided by someone else (request.own)"); empty for a success.
  std::string error_code() const;
  std::string error_text() const;
};

// An entry of the console's navigation: a page and its label, shown to members with `needs`.
struct NavEntry {
  std::string path, label;
  admin::Role needs = admin::Role::kViewer;
};

class Context;

// A page of the console: `prefix` and every path under it.
struct PageSpec {
  std::string prefix;  // "/console/partners"
  std::string label;   // in the navigation; empty: not in it (a page reached from another)
  admin::Role needs = admin::Role::kViewer;
  std::function<void(const Context&)> serve;
};

// What every page of the console shares: the admin API it calls and the navigation it shows.
struct PageFrame {
  admin::Dialect* admin = nullptr;
  std::vector<NavEntry> nav;
};

// One request to a page: who asks, what they sent, and how the page answers. A cheap handle
// (copies share the request): capture it by value in the callbacks of admin(). Any thread.
class Context {
 public:
  struct Parts {
    const PageFrame* frame = nullptr;
    Member member;
    std::string csrf;
    std::string address;  // the client's, as the HTTP layer resolved it
    bool post = false;
    std::string path;               // "/console/partners/qiwi:shop"
    std::vector<std::string> rest;  // the decoded segments after the page's prefix
    std::string query;              // the query string, as sent
    web::FormParams form;           // a POST's form (its CSRF token checked)
    http::Responder respond;
  };
  explicit Context(Parts parts);

  const Member& member() const { return s_->member; }
  // The member as the admin API sees them: via "console".
  admin::Actor actor() const;
  // The session's CSRF token, for the hidden "csrf" field of every form (render() adds it).
  const std::string& csrf() const { return s_->csrf; }
  bool post() const { return s_->post; }
  const std::string& path() const { return s_->path; }
  std::span<const std::string> rest() const { return s_->rest; }
  // A query parameter, decoded; empty when absent, given twice or malformed.
  std::string query(std::string_view name) const;
  const std::string& query_string() const { return s_->query; }
  // A field of a POST's form; empty when absent.
  std::string form(std::string_view name) const { return web::form_value(s_->form, name); }
  const web::FormParams& form_params() const { return s_->form; }

  // Calls the admin API: `method` on /admin/v1/<target> (target: the path after /admin/v1/ with
  // its query, each piece percent-encoded by the caller) with the JSON `body` (empty for none),
  // as actor(); `then` gets the answer, on whatever thread the API answers from.
  void admin(std::string_view method, std::string target, std::string body,
             std::function<void(const AdminAnswer&)> then) const;

  // Answers (exactly one of these, once): `template_name` rendered with `data` (plus "csrf") as
  // the content of the console's layout, titled `title`;
  void render(int status, std::string_view title, std::string_view template_name,
              web::Node data) const;
  // HTML a template rendered, as that content;
  void page(int status, std::string_view title, std::string_view content) const;
  // one line in the layout;
  void message(int status, std::string_view title, std::string_view text) const;
  // the admin API's refusal or failure, its status and its description, in the layout;
  void failed(const AdminAnswer& answer) const;
  // 303 to `location` (after a POST that did something);
  void redirect(std::string_view location) const;
  // or an answer of its own (a CSV download).
  void send(http::Response response) const;

 private:
  std::shared_ptr<const Parts> s_;
};

// `text` as one segment of a path (of the console's or the admin API's): percent-encoded but for
// RFC 3986's unreserved characters and ':', so that a tenant's key reads "qiwi:shop" in links and
// in the audit log's targets alike.
std::string path_segment(std::string_view text);

// A member of `object` for a page: a string as it is, a number as its literal, true/false, an
// amount object ({"value","currency"}) as "12.34 RUB", anything else as compact JSON; empty when
// absent or null.
std::string text_of(const json::Value& object, std::string_view key);

// The console's layout (the header with the navigation of what `member` may open, the current
// page's entry marked, signing out) around `content`.
std::string layout(const PageFrame& frame, const Member& member, std::string_view csrf,
                   std::string_view current_path, std::string_view title, std::string_view content);
// "viewer, finance": the roles a member was granted.
std::string roles_text(admin::Roles roles);

}  // namespace payoutd::console
