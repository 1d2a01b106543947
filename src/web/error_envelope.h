#pragma once
// payoutd's own error envelope: the shape of QIWI's APIs (serviceName, errorCode, description,
// userMessage, dateTime, traceId), which the QIWI provider speaks, and which the admin API and
// the server's own answers (an unknown path, a request it cannot read, storage down) use too.
#include <optional>
#include <string_view>

#include "http/server.h"

namespace payoutd::web {

// The dateTime of the server's own answers and the admin API's: Moscow time, as QIWI's.
inline constexpr int kServerUtcOffsetMinutes = 180;

// The envelope of an error; its dateTime at `utc_offset_minutes`. 5xx answers are logged
// (a limited number a second).
http::Response error_response(int status, std::string_view service, std::string_view code,
                              std::string_view description, int utc_offset_minutes);

// The envelope for a request the HTTP layer could not read whole (413 over a size limit, 400
// malformed), or nullopt when the request is fine.
std::optional<http::Response> problem_response(const http::Request& request,
                                               std::string_view service, int utc_offset_minutes);

}  // namespace payoutd::web
