#include "providers/settings_fields.h"

#include <algorithm>

namespace payoutd::providers {
namespace {

constexpr std::size_t kStringSizeMax = 256;
constexpr std::size_t kCertificatesMax = 16;

}  // namespace

bool only_members(const json::Value& settings, std::span<const std::string_view> members,
                  std::string_view what, std::string* problem) {
  if (!settings.is_object()) return *problem = "settings: must be an object", false;
  for (const auto& [name, value] : settings.as_object()) {
    if (std::find(members.begin(), members.end(), name) == members.end()) {
      *problem = "settings." + name + ": is not " + std::string(what);
      return false;
    }
  }
  return true;
}

const json::Value::Array* array_member(const json::Value& settings, std::string_view name,
                                       std::size_t size_max, std::string* problem) {
  static const json::Value::Array kNone;
  const json::Value* v = settings.find(name);
  if (!v || v->is_null()) return &kNone;
  if (!v->is_array()) {
    *problem = "settings." + std::string(name) + ": must be an array";
    return nullptr;
  }
  if (v->as_array().size() > size_max) {
    *problem = "settings." + std::string(name) + ": at most " + std::to_string(size_max);
    return nullptr;
  }
  return &v->as_array();
}

bool read_strings(const json::Value& settings, std::string_view name, std::size_t size_max,
                  std::string* problem, std::vector<std::string>& out) {
  const json::Value::Array* items = array_member(settings, name, size_max, problem);
  if (!items) return false;
  for (std::size_t i = 0; i < items->size(); ++i) {
    const json::Value& v = (*items)[i];
    if (!v.is_string() || v.as_string().empty() || v.as_string().size() > kStringSizeMax) {
      *problem = "settings." + std::string(name) + "[" + std::to_string(i) +
                 "]: must be a string of 1 to 256 bytes";
      return false;
    }
    out.push_back(v.as_string());
  }
  return true;
}

bool read_client_certificates(const json::Value& settings, std::string* problem,
                              ClientCertificatePolicy& out) {
  if (!read_strings(settings, "clientCertSubjects", kCertificatesMax, problem, out.subjects) ||
      !read_strings(settings, "clientCertSpkiSha256", kCertificatesMax, problem, out.spki_sha256)) {
    return false;
  }
  for (std::size_t i = 0; i < out.spki_sha256.size(); ++i) {
    if (!is_spki_pin(out.spki_sha256[i])) {
      *problem = "settings.clientCertSpkiSha256[" + std::to_string(i) +
                 "]: is not a base64 SHA-256 (44 characters ending in '=')";
      return false;
    }
  }
  return true;
}

void write_client_certificates(json::Writer& w, const ClientCertificatePolicy& policy) {
  const auto strings = [&w](std::string_view key, const std::vector<std::string>& values) {
    if (values.empty()) return;
    w.key(key).begin_array();
    for (const std::string& v : values) w.string(v);
    w.end_array();
  };
  strings("clientCertSubjects", policy.subjects);
  strings("clientCertSpkiSha256", policy.spki_sha256);
}

}  // namespace payoutd::providers
