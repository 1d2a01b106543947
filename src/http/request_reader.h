#pragma once
// Internal to http/: how a connection reads its requests (server.h's parse_request() runs the
// same code). Includes Beast; only http/'s own sources include this.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <optional>

#include "http/server.h"

namespace payoutd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

// One socket read at most (Beast's own read size).
inline constexpr std::size_t kReadBytesMax = 64 * 1024;

// Reads a connection's requests one at a time: Beast's parser with the server's limits, then the
// framing checks Beast leaves out. A Session and parse_request() share it, so what a fuzzer
// finds through parse_request is what a connection runs. The read buffer is bounded too: Beast
// bounds the header section and the body, not a chunk's size line nor the trailer.
class RequestReader {
 public:
  enum class Step : std::uint8_t {
    kMoreBytes,  // read more into prepare(), then parse() again
    kRequest,    // the request is in `out`, complete or with its problem
    kNothing,    // the peer closed before sending a byte of a request
  };

  explicit RequestReader(const ServerOptions& options)
      : options_(options), buffer_(options.header_limit_bytes + kReadBytesMax) {}

  // Begins the next request; bytes of a pipelined one may already be buffered.
  void start() {
    parser_.emplace();
    parser_->body_limit(options_.body_limit_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(options_.header_limit_bytes));
    parser_->eager(false);  // stop after the header section, to check it before the body
    header_checked_ = false;
    folded_ = false;
  }

  bool has_bytes() const { return buffer_.size() != 0; }
  // Where the next read goes. Never empty: parse() reports a full buffer as a problem.
  asio::mutable_buffer prepare() {
    return buffer_.prepare(beast::read_size(buffer_, kReadBytesMax));
  }
  void commit(std::size_t bytes) { buffer_.commit(bytes); }
  // What is buffered and not yet parsed, and dropping its first `bytes`: a connection's PROXY
  // protocol header is read through this buffer, so that what follows it stays buffered for
  // the first request.
  std::string_view buffered() const {
    const auto data = buffer_.data();
    return {static_cast<const char*>(data.data()), data.size()};
  }
  void consume(std::size_t bytes) { buffer_.consume(bytes); }

  // Parses what is buffered, consuming the request's bytes.
  Step parse(Request& out);

  // The peer closed its side of the connection.
  Step finish(Request& out);

  // Whether the connection may carry another request after this one's answer.
  bool keep_alive() const { return keep_alive_; }

 private:
  Step accept(Request& out);

  // After a problem the connection ends: what follows cannot be told apart from this request.
  Step refuse(RequestProblem problem, Request& out);

  const ServerOptions& options_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool header_checked_ = false;
  bool folded_ = false;
  bool keep_alive_ = false;
};

}  // namespace payoutd::http
