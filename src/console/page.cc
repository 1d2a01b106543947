#include "console/page.h"

#include "admin/answers.h"
#include "admin/api.h"
#include "cabinet/view.h"
#include "core/assert.h"
#include "http/query.h"
#include "web/html.h"

namespace payoutd::console {
namespace {

// A request of the admin API made in-process: its bytes are the console's, not a client's.
http::Request admin_request(std::string_view method, std::string_view target, std::string body,
                            std::string address) {
  http::Request r;
  r.method = std::string(method);
  r.target = "/admin/v1/" + std::string(target);
  if (!body.empty()) r.content_type = "application/json";
  r.body = std::move(body);
  r.peer_address = std::move(address);
  return r;
}

}  // namespace

std::string AdminAnswer::error_code() const {
  return ok() ? std::string() : json::string_member(json, "errorCode");
}

std::string AdminAnswer::error_text() const {
  if (ok()) return {};
  const std::string text = json::string_member(json, "description");
  const std::string code = error_code();
  if (text.empty()) return "the admin API answered " + std::to_string(status());
  return code.empty() ? text : text + " (" + code + ")";
}

std::string path_segment(std::string_view text) {
  std::string out;
  for (std::size_t start = 0;;) {
    const std::size_t colon = text.find(':', start);
    out += cabinet::url_encode(text.substr(start, colon - start));
    if (colon == std::string_view::npos) return out;
    out += ':';
    start = colon + 1;
  }
}

std::string text_of(const json::Value& object, std::string_view key) {
  const json::Value* v = object.is_object() ? object.find(key) : nullptr;
  if (!v || v->is_null()) return {};
  if (v->is_string()) return v->as_string();
  if (v->is_number()) return std::string(v->number_text());
  if (v->is_bool()) return v->as_bool() ? "true" : "false";
  const json::Value* value = v->is_object() ? v->find("value") : nullptr;
  const json::Value* currency = v->is_object() ? v->find("currency") : nullptr;
  if (value && currency && currency->is_string() && v->as_object().size() == 2) {
    return text_of(*v, "value") + " " + currency->as_string();
  }
  return json::to_string(*v);
}

std::string roles_text(admin::Roles roles) {
  std::string out;
  for (const admin::Role role :
       {admin::Role::kViewer, admin::Role::kSupport, admin::Role::kFinance, admin::Role::kAdmin}) {
    if (roles.granted(role)) out.append(out.empty() ? "" : ", ").append(admin::role_name(role));
  }
  return out;
}

std::string layout(const PageFrame& frame, const Member& member, std::string_view csrf,
                   std::string_view current_path, std::string_view title,
                   std::string_view content) {
  web::Node nav = web::Node::list();
  nav.push({{"path", "/console"}, {"label", "Home"}, {"current", current_path == "/console"}});
  for (const NavEntry& e : frame.nav) {
    if (!member.roles.has(e.needs)) continue;
    const bool current = current_path == e.path ||
                         (current_path.starts_with(e.path) && current_path[e.path.size()] == '/');
    nav.push({{"path", e.path}, {"label", e.label}, {"current", current}});
  }
  return web::render("console/layout", {{"lang", "en"},
                                        {"head_title", std::string(title) + " · payoutd console"},
                                        {"refresh", ""},
                                        {"nav", std::move(nav)},
                                        {"login", member.login},
                                        {"roles", roles_text(member.roles)},
                                        {"csrf", csrf},
                                        {"title", title},
                                        {"content", content}});
}

Context::Context(Parts parts) : s_(std::make_shared<const Parts>(std::move(parts))) {
  PAYOUTD_ASSERT(s_->frame != nullptr, "a console page's context has its frame");
}

admin::Actor Context::actor() const {
  return admin::Actor{
      .id = s_->member.login, .roles = s_->member.roles, .via = "console", .address = s_->address};
}

std::string Context::query(std::string_view name) const {
  http::QueryParam p = http::query_param(s_->query, name);
  return p.present && p.valid ? std::move(p.value) : std::string();
}

void Context::admin(std::string_view method, std::string target, std::string body,
                    std::function<void(const AdminAnswer&)> then) const {
  admin::Dialect* api = s_->frame->admin;
  PAYOUTD_ASSERT(api != nullptr, "console pages are served only with the admin API set");
  http::Request request = admin_request(method, target, std::move(body), s_->address);
  api->serve_as(request, actor(), [then = std::move(then)](http::Response r) {
    // An answer may fill its body only when it is written (http::Response::render_body).
    if (r.render_body) {
      r.render_body(r.body);
      r.render_body = nullptr;
    }
    AdminAnswer answer{.response = std::move(r), .json = {}};
    if (answer.response.content_type.starts_with("application/json")) {
      if (auto parsed = json::parse(answer.response.body); parsed.value) {
        answer.json = std::move(*parsed.value);
      }
    }
    then(answer);
  });
}

void Context::render(int status, std::string_view title, std::string_view template_name,
                     web::Node data) const {
  data.set("csrf", s_->csrf);
  page(status, title, web::render(template_name, data));
}

void Context::page(int status, std::string_view title, std::string_view content) const {
  send(web::page(status, layout(*s_->frame, s_->member, s_->csrf, s_->path, title, content)));
}

void Context::message(int status, std::string_view title, std::string_view text) const {
  page(status, title, web::render("console/message", {{"message", text}}));
}

void Context::failed(const AdminAnswer& answer) const {
  const int status = answer.status() >= 400 ? answer.status() : 502;
  message(status, status == 403 ? "Not allowed" : "Not done", answer.error_text());
}

void Context::redirect(std::string_view location) const {
  send(web::redirect(std::string(location)));
}

void Context::send(http::Response response) const {
  web::send_page(s_->respond, std::move(response), {}, 0);
}

}  // namespace payoutd::console
