#include "tenants/tenant_record.h"

#include "core/json.h"

namespace payoutd::tenants {
namespace {

void write_credential(json::Writer& w, const Credential& c) {
  w.begin_object();
  w.key("id").string(c.id).key("kind").string(c.kind);
  w.key("storage").string(c.storage == Storage::kHashed ? "hashed" : "sealed");
  w.key("stored").string(c.stored);
  w.key("createdMs").integer(c.created_ms).key("retiresMs").integer(c.retires_ms);
  w.key("source").string(source_name(c.source));
  if (c.first_used_ms != 0) w.key("firstUsedMs").integer(c.first_used_ms);
  w.end_object();
}

std::optional<Credential> credential_from(const json::Value& v) {
  if (!v.is_object()) return std::nullopt;
  Credential c;
  c.id = json::string_member(v, "id");
  c.kind = json::string_member(v, "kind");
  c.storage = json::string_member(v, "storage") == "sealed" ? Storage::kSealed : Storage::kHashed;
  c.stored = json::string_member(v, "stored");
  c.created_ms = json::int_member(v, "createdMs");
  c.retires_ms = json::int_member(v, "retiresMs");
  c.source = json::string_member(v, "source") == "config" ? Source::kConfig : Source::kRuntime;
  c.first_used_ms = json::int_member(v, "firstUsedMs");
  if (c.id.empty() || c.stored.empty()) return std::nullopt;
  return c;
}

}  // namespace

std::string_view status_name(Status status) {
  switch (status) {
    case Status::kActive:
      return "active";
    case Status::kSuspended:
      return "suspended";
    case Status::kClosed:
      return "closed";
  }
  return "active";
}

std::optional<Status> parse_status(std::string_view name) {
  for (Status s : {Status::kActive, Status::kSuspended, Status::kClosed}) {
    if (status_name(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view source_name(Source source) {
  return source == Source::kConfig ? "config" : "runtime";
}

std::string to_json(const TenantRecord& r) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("provider").string(r.tenant.provider).key("id").string(r.tenant.id);
  w.key("status").string(status_name(r.status));
  w.key("settings").raw(r.settings);
  w.key("credentials").begin_array();
  for (const Credential& c : r.credentials) write_credential(w, c);
  w.end_array();
  w.key("revision").integer(r.revision);
  w.key("createdMs").integer(r.created_ms).key("updatedMs").integer(r.updated_ms);
  w.key("source").string(source_name(r.source));
  w.key("configDigest").string(r.config_digest);
  w.end_object();
  return out;
}

std::optional<TenantRecord> record_from_json(std::string_view text) {
  const json::ParseResult parsed = json::parse(text);
  if (!parsed.value || !parsed.value->is_object()) return std::nullopt;
  const json::Value& v = *parsed.value;
  TenantRecord r;
  r.tenant = {json::string_member(v, "provider"), json::string_member(v, "id")};
  const auto status = parse_status(json::string_member(v, "status"));
  const json::Value* settings = v.find("settings");
  const json::Value* credentials = v.find("credentials");
  if (r.tenant.provider.empty() || r.tenant.id.empty() || !status || !settings ||
      !settings->is_object() || !credentials || !credentials->is_array()) {
    return std::nullopt;
  }
  r.status = *status;
  r.settings = json::to_string(*settings);
  for (const json::Value& c : credentials->as_array()) {
    auto credential = credential_from(c);
    if (!credential) return std::nullopt;
    r.credentials.push_back(std::move(*credential));
  }
  r.revision = json::int_member(v, "revision");
  r.created_ms = json::int_member(v, "createdMs");
  r.updated_ms = json::int_member(v, "updatedMs");
  r.source = json::string_member(v, "source") == "config" ? Source::kConfig : Source::kRuntime;
  r.config_digest = json::string_member(v, "configDigest");
  return r;
}

}  // namespace payoutd::tenants
