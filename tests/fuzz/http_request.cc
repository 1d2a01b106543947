// Fuzz target: an HTTP request as a connection reads it (http::parse_request: Beast's parser as
// the server configures it, then the server's framing checks). The input is the bytes a client
// sends; small limits (a 2 KiB header section, a 4 KiB body) make the limits reachable.
// For any bytes:
// - parse_request never crashes, leaks or fails a sanitizer check, and answers for any non-empty
//   input;
// - a request without a problem has a method and a target, and a body within the limit;
// - framing is never ambiguous: a header section with both Transfer-Encoding and Content-Length,
//   with two Transfer-Encoding lines, or with one whose value is not exactly "chunked", is never
//   a request without a problem (a smuggled second request would hide in its body);
// - a complete request is what it is whatever follows it (pipelined bytes are the next request's).
#include "check.h"
#include "http/server.h"

#include <string>
#include <vector>

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return out;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether the header section (up to the first blank line) frames its body ambiguously.
bool ambiguous_framing(std::string_view input) {
  const auto end = input.find("\r\n\r\n");
  if (end == std::string_view::npos) return false;
  std::string_view head = input.substr(0, end);
  const auto first = head.find("\r\n");
  if (first == std::string_view::npos) return false;
  head.remove_prefix(first + 2);
  int transfer_encodings = 0, content_lengths = 0;
  bool chunked_only = true;
  while (!head.empty()) {
    const auto eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = lower(line.substr(0, colon));
    if (name == "transfer-encoding") {
      ++transfer_encodings;
      chunked_only &= lower(trimmed(line.substr(colon + 1))) == "chunked";
    } else if (name == "content-length") {
      ++content_lengths;
    }
  }
  return transfer_encodings > 1 ||
         (transfer_encodings == 1 && (content_lengths > 0 || !chunked_only));
}

bool same(const payoutd::http::Request& a, const payoutd::http::Request& b) {
  return a.problem == b.problem && a.method == b.method && a.target == b.target &&
         a.body == b.body && a.authorization == b.authorization && a.cookie == b.cookie;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = payoutd::fuzz::text_of(data, size);
  payoutd::http::ServerOptions options;
  options.header_limit_bytes = 2048;
  options.body_limit_bytes = 4096;
  const auto request = payoutd::http::parse_request(input, options);
  FUZZ_CHECK(request.has_value() == !input.empty());
  if (!request || request->problem != payoutd::http::RequestProblem::kNone) return 0;
  FUZZ_CHECK(!request->method.empty());
  FUZZ_CHECK(!request->target.empty());
  FUZZ_CHECK(request->body.size() <= options.body_limit_bytes);
  FUZZ_CHECK(!ambiguous_framing(input));
  const auto followed =
      payoutd::http::parse_request(std::string(input) + "GET /next HTTP/1.1\r\n\r\n", options);
  FUZZ_CHECK(followed && same(*request, *followed));
  return 0;
}
