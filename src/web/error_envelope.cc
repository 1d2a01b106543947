#include "web/error_envelope.h"

#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log_limit.h"
#include "core/time_format.h"

namespace payoutd::web {
namespace {

// A code's own message, else its status's: a new code never reads "Resource not found" unless
// it is a 404.
std::string_view user_message(std::string_view code, int status) {
  if (code == "validation.error") return "Request validation failed";
  if (code == "auth.token.missing" || code == "auth.token.invalid" ||
      code == "auth.certificate.invalid" || code == "auth.token.retired") {
    return "Authentication failed";
  }
  if (code == "auth.forbidden" || code == "auth.role.missing") return "Access denied";
  if (code == "auth.too.many.attempts") return "Too many attempts, retry later";
  if (code == "method.not.allowed") return "Method not allowed";
  if (code == "id.conflict") return "The id is already used";
  if (code == "transaction.id.conflict") return "The transaction id is already used";
  if (code == "currency.mismatch") return "Currency is not supported for this account";
  if (code == "request.too.large") return "Request is too large";
  if (code == "service.unavailable") return "Service is temporarily unavailable, retry later";
  if (code == "internal.error") return "Internal error, retry later";
  if (code == "history.cursor.invalid") return "Invalid cursor";
  if (code == "funder.insufficient.funds") return "Insufficient funds";
  if (code == "request.own") return "A request is decided by another staff member";
  if (code == "request.decided" || code == "request.expired") return "The request is closed";
  switch (status) {
    case 400:
      return "Request validation failed";
    case 401:
      return "Authentication failed";
    case 403:
      return "Access denied";
    case 404:
      return "Resource not found";
    case 409:
      return "The request conflicts with the current state";
    case 422:
      return "The request cannot be carried out";
    case 503:
      return "Service is temporarily unavailable, retry later";
    default:
      return "The request failed";
  }
}

}  // namespace

http::Response error_response(int status, std::string_view service, std::string_view code,
                              std::string_view description, int utc_offset_minutes) {
  http::Response r;
  r.status = status;
  json::Writer w(r.body);
  w.begin_object();
  w.key("serviceName").string(service);
  w.key("errorCode").string(code);
  w.key("description").string(description);
  w.key("userMessage").string(user_message(code, status));
  w.key("dateTime").string(format_iso8601(SystemClock().now_ms(), utc_offset_minutes));
  w.key("traceId").string(new_trace_id());
  w.end_object();
  static LogLimit server_errors;
  if (status >= 500) {
    if (const std::int64_t held = server_errors.admit(); held >= 0) {
      spdlog::warn("{} {}: {} ({} more not logged)", status, code, description, held);
    }
  }
  return r;
}

std::optional<http::Response> problem_response(const http::Request& request,
                                               std::string_view service, int utc_offset_minutes) {
  switch (request.problem) {
    case http::RequestProblem::kNone:
      return std::nullopt;
    case http::RequestProblem::kBodyTooLarge:
    case http::RequestProblem::kHeaderTooLarge:
      return error_response(413, service, "request.too.large", "the request exceeds the size limit",
                            utc_offset_minutes);
    case http::RequestProblem::kMalformed:
      break;
  }
  return error_response(400, service, "validation.error", "malformed HTTP request",
                        utc_offset_minutes);
}

}  // namespace payoutd::web
