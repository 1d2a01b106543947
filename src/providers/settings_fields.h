#pragma once
// Readers and writers a provider's tenant settings codec (tenants/kind.h) shares with the other
// providers': optional arrays, the client certificates a tenant's calls must present. Each reader
// names the member at fault with its path ("settings.clientCertSpkiSha256[0]: ...").
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/client_certificate.h"
#include "core/json.h"

namespace payoutd::providers {

// `settings` is an object whose every member is one of `members`; false with *problem
// ("settings.colour: is not <what>") otherwise.
bool only_members(const json::Value& settings, std::span<const std::string_view> members,
                  std::string_view what, std::string* problem);

// The array `name` of `settings` (absent or null: empty); nullptr with *problem when it is not
// one or is longer than `size_max`.
const json::Value::Array* array_member(const json::Value& settings, std::string_view name,
                                       std::size_t size_max, std::string* problem);

// The strings of array `name` (1 to 256 bytes each, at most `size_max`) appended to `out`.
bool read_strings(const json::Value& settings, std::string_view name, std::size_t size_max,
                  std::string* problem, std::vector<std::string>& out);

// "clientCertSubjects" and "clientCertSpkiSha256" (each pin a base64 SHA-256).
bool read_client_certificates(const json::Value& settings, std::string* problem,
                              ClientCertificatePolicy& out);
// The same members, each only when not empty: what read_client_certificates reads back.
void write_client_certificates(json::Writer& w, const ClientCertificatePolicy& policy);

}  // namespace payoutd::providers
