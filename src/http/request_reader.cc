#include "http/request_reader.h"

#include <algorithm>
#include <cstring>

namespace payoutd::http {

std::string_view Request::path() const {
  const auto q = target.find('?');
  return std::string_view(target).substr(0, q);
}

std::string_view Request::query() const {
  const auto q = target.find('?');
  return q == std::string::npos ? std::string_view() : std::string_view(target).substr(q + 1);
}

namespace {

// True if `header_bytes` continue a line onto the next (obs-fold: CRLF then a space or a tab).
// Beast consumes a header line only once it has seen that the next one is no continuation, so
// scanning each consumed piece of the header section finds every fold.
bool has_line_folding(std::string_view header_bytes) {
  for (std::size_t eol = header_bytes.find('\n'); eol != std::string_view::npos;
       eol = header_bytes.find('\n', eol + 1)) {
    if (eol + 1 < header_bytes.size() &&
        (header_bytes[eol + 1] == ' ' || header_bytes[eol + 1] == '\t')) {
      return true;
    }
  }
  return false;
}

// RFC 9112 section 6, where Beast is lenient. Beast frames a body by "chunked" only when it is
// the last coding, and reads any other Transfer-Encoding ("xchunked", "chunked, identity") as no
// body at all: the body would then be parsed as the next request, and a proxy in front that
// frames it otherwise smuggles a request through. So a Transfer-Encoding is exactly one line of
// exactly "chunked", in HTTP/1.1, without Content-Length. (Beast itself refuses differing
// Content-Length values and a Content-Length beside "chunked".)
bool framing_acceptable(const bhttp::request<bhttp::string_body>& message) {
  const std::size_t encodings = message.count(bhttp::field::transfer_encoding);
  if (encodings == 0) return true;
  return encodings == 1 && message.version() == 11 &&
         beast::iequals(message[bhttp::field::transfer_encoding], "chunked") &&
         message.count(bhttp::field::content_length) == 0;
}

// A header sent in several field lines is one list (RFC 9110 section 5.3): its lines joined by
// ", ", in `out`. `Name`: a bhttp::field, or the name of one Beast does not know.
template <typename Name>
void join_field_lines(const bhttp::request<bhttp::string_body>& message, Name field,
                      std::string& out) {
  out.clear();
  for (auto [line, end] = message.equal_range(field); line != end; ++line) {
    out.append(out.empty() ? "" : ", ").append(line->value());
  }
}

RequestProblem problem_of(const beast::error_code& ec) {
  if (ec == bhttp::error::body_limit) return RequestProblem::kBodyTooLarge;
  if (ec == bhttp::error::header_limit) return RequestProblem::kHeaderTooLarge;
  return RequestProblem::kMalformed;
}

}  // namespace

RequestReader::Step RequestReader::parse(Request& out) {
  while (buffer_.size() != 0) {
    beast::error_code ec;
    const auto data = buffer_.data();
    const std::size_t used = parser_->put(data, ec);
    if (!header_checked_) {
      folded_ = folded_ || has_line_folding({static_cast<const char*>(data.data()), used});
    }
    buffer_.consume(used);
    if (ec == bhttp::error::need_more) break;
    if (ec) return refuse(problem_of(ec), out);
    if (!header_checked_ && parser_->is_header_done()) {
      header_checked_ = true;
      if (folded_ || !framing_acceptable(parser_->get())) {
        return refuse(RequestProblem::kMalformed, out);
      }
      parser_->eager(true);
    }
    if (parser_->is_done()) return accept(out);
    if (used == 0) break;  // nothing parsed without asking for more: read on, within deadlines
  }
  if (buffer_.size() < buffer_.max_size()) return Step::kMoreBytes;
  // A header section fills the buffer only past header_limit (Beast reports that first), so
  // this is a chunk size line or a trailer without end.
  return refuse(
      parser_->is_header_done() ? RequestProblem::kMalformed : RequestProblem::kHeaderTooLarge,
      out);
}

RequestReader::Step RequestReader::finish(Request& out) {
  if (!parser_->got_some() && buffer_.size() == 0) return Step::kNothing;
  return refuse(RequestProblem::kMalformed, out);  // a request cut short
}

RequestReader::Step RequestReader::accept(Request& out) {
  auto& message = parser_->get();
  keep_alive_ = message.keep_alive();
  out.method = std::string(message.method_string());
  out.target = std::string(message.target());
  out.authorization = std::string(message[bhttp::field::authorization]);
  out.cookie = std::string(message[bhttp::field::cookie]);
  out.origin = std::string(message[bhttp::field::origin]);
  out.host = std::string(message[bhttp::field::host]);
  join_field_lines(message, bhttp::field::accept_language, out.accept_language);
  if (options_.client_address.reads_forwarded_header()) {
    if (options_.client_address.forwarded_header == ForwardedHeader::kForwarded) {
      join_field_lines(message, bhttp::field::forwarded, out.forwarded);
    } else {
      join_field_lines(message, std::string_view("X-Forwarded-For"), out.forwarded);
    }
  }
  out.content_type = std::string(message[bhttp::field::content_type]);
  out.request_id = std::string(message["X-Request-Id"]);
  out.body = std::move(message.body());
  out.problem = RequestProblem::kNone;
  return Step::kRequest;
}

RequestReader::Step RequestReader::refuse(RequestProblem problem, Request& out) {
  keep_alive_ = false;
  // The request line is known once parsed, even when the problem came later (a header over
  // the limit, the framing); it picks the dialect that answers. So are the fields parsed so far.
  out.method = std::string(parser_->get().method_string());
  out.target = std::string(parser_->get().target());
  out.request_id = std::string(parser_->get()["X-Request-Id"]);  // what arrived of it
  out.problem = problem;
  return Step::kRequest;
}

std::optional<Request> parse_request(std::string_view bytes, const ServerOptions& options) {
  RequestReader reader(options);
  reader.start();
  Request request;
  for (;;) {
    // The bytes arrive as a connection's reads would bring them: as much as the buffer takes.
    const auto space = reader.prepare();
    const std::size_t n = std::min(space.size(), bytes.size());
    std::memcpy(space.data(), bytes.data(), n);
    reader.commit(n);
    bytes.remove_prefix(n);
    const auto step = bytes.empty() && n == 0 ? reader.finish(request) : reader.parse(request);
    if (step == RequestReader::Step::kRequest) return request;
    if (step == RequestReader::Step::kNothing) return std::nullopt;
  }
}

}  // namespace payoutd::http
