#include "outbox/http_transport.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <sys/socket.h>

#include <chrono>

#include "outbox/work_pool.h"

namespace payoutd::outbox {

bool is_private_address(const std::string& address) {
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    const std::uint32_t a = ntohl(v4.s_addr);
    auto in = [&](std::uint32_t net, int bits) {
      return (a >> (32 - bits)) == (net >> (32 - bits));
    };
    return in(0x00000000, 8) || in(0x0A000000, 8) || in(0x7F000000, 8) || in(0xA9FE0000, 16) ||
           in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x64400000, 10) || in(0xC0000000, 24) ||
           in(0xC6120000, 15) || in(0xE0000000, 4) || in(0xF0000000, 4);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
    const unsigned char* b = v6.s6_addr;
    static const unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const unsigned char kAny[16] = {};
    if (std::equal(b, b + 16, kLoopback) || std::equal(b, b + 16, kAny)) return true;
    if ((b[0] & 0xfe) == 0xfc) return true;                   // fc00::/7 unique local
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;   // fe80::/10 link-local
    if (b[0] == 0xff) return true;                            // multicast
    const bool mapped = std::all_of(b, b + 10, [](unsigned char c) { return c == 0; }) &&
                        b[10] == 0xff && b[11] == 0xff;
    if (mapped) {
      char text[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, b + 12, text, sizeof text);
      return is_private_address(text);
    }
    return false;
  }
  return true;  // not an address: refuse
}

namespace {

// A worker's libcurl handle, reused across its sends.
struct Curl {
  CURL* handle = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  Curl() = default;
  Curl(const Curl&) = delete;
  Curl& operator=(const Curl&) = delete;
  ~Curl() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(handle);
  }
};

}  // namespace

struct HttpTransport::Impl {
  CURLcode curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT);  // before any worker's handle
  HttpTransportOptions options;
  WorkPool<Curl> pool;

  explicit Impl(HttpTransportOptions o) : options(std::move(o)), pool(options.threads, "callbacks") {}

  static curl_socket_t open_socket(void* self, curlsocktype, curl_sockaddr* address) {
    auto* impl = static_cast<Impl*>(self);
    char text[INET6_ADDRSTRLEN] = {};
    if (address->family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&address->addr)->sin_addr, text, sizeof text);
    } else if (address->family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&address->addr)->sin6_addr, text, sizeof text);
    }
    if (!impl->options.allow_private_targets && is_private_address(text)) return CURL_SOCKET_BAD;
    return socket(address->family, address->socktype, address->protocol);
  }

  static std::size_t discard(char*, std::size_t size, std::size_t count, void*) { return size * count; }

  Delivery send(Curl& c, const std::string& url, const std::string& body) {
    CURL* curl = c.handle;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options.timeout_ms);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, c.headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, this);
    const auto started = std::chrono::steady_clock::now();
    const CURLcode rc = curl_easy_perform(curl);
    Delivery d;
    d.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    if (rc == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      d.http_status = static_cast<int>(status);
      d.accepted = status == 200;
    } else {
      d.error = rc == CURLE_COULDNT_CONNECT && !options.allow_private_targets
                    ? std::string("could not connect (or the address is not public)")
                    : std::string(curl_easy_strerror(rc));
    }
    return d;
  }
};

HttpTransport::HttpTransport(HttpTransportOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpTransport::~HttpTransport() = default;

void HttpTransport::post(std::string url, std::string body, std::function<void(Delivery)> done) {
  impl_->pool.post([impl = impl_.get(), url = std::move(url), body = std::move(body)](Curl& c) {
    return impl->send(c, url, body);
  }, std::move(done));
}

void HttpTransport::stop() { impl_->pool.stop(); }

}  // namespace payoutd::outbox
