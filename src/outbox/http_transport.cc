#include "outbox/http_transport.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <iterator>

#include "core/ids.h"
#include "outbox/work_pool.h"

namespace payoutd::outbox {

namespace {

// What an address in a range may be reached as.
enum class Reach : std::uint8_t { kRefused, kPublic, kAsItsIpv4 };

// An address block: the first `bits` of `prefix`. kAsItsIpv4: the IPv4 address embedded at byte
// `ipv4_at` decides (the block is a way to reach that IPv4 address).
struct Range {
  std::array<std::uint8_t, 16> prefix;
  int bits;
  Reach reach = Reach::kRefused;
  int ipv4_at = 0;
};

bool in(const std::uint8_t* address, const Range& r) {
  const int whole = r.bits / 8;
  const int rest = r.bits % 8;
  if (!std::equal(address, address + whole, r.prefix.begin())) return false;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return rest == 0 || (address[whole] & mask) == (r.prefix[whole] & mask);
}

// IPv4 blocks that are not public: IANA's IPv4 Special-Purpose Address Registry (each block not
// globally reachable, and the deprecated 6to4 relay anycast), multicast, and 240/4 (reserved,
// with the limited broadcast).
constexpr Range kIpv4NotPublic[] = {
    {{0, 0, 0, 0}, 8},        // "this network" (RFC 791)
    {{10, 0, 0, 0}, 8},       // private (RFC 1918)
    {{100, 64, 0, 0}, 10},    // shared address space, carrier-grade NAT (RFC 6598)
    {{127, 0, 0, 0}, 8},      // loopback
    {{169, 254, 0, 0}, 16},   // link-local
    {{172, 16, 0, 0}, 12},    // private
    {{192, 0, 0, 0}, 24},     // IETF protocol assignments (DS-Lite, NAT64 discovery, ...)
    {{192, 0, 2, 0}, 24},     // documentation, TEST-NET-1
    {{192, 88, 99, 0}, 24},   // 6to4 relay anycast (deprecated, RFC 7526)
    {{192, 168, 0, 0}, 16},   // private
    {{198, 18, 0, 0}, 15},    // benchmarking
    {{198, 51, 100, 0}, 24},  // documentation, TEST-NET-2
    {{203, 0, 113, 0}, 24},   // documentation, TEST-NET-3
    {{224, 0, 0, 0}, 4},      // multicast
    {{240, 0, 0, 0}, 4},      // reserved; 255.255.255.255 broadcast
};

// IPv6, first match wins; an address that matches none is refused. Global unicast is 2000::/3;
// all other space is special or unassigned: unspecified, loopback, IPv4-compatible (::/96),
// NAT64 for local use (64:ff9b:1::/48), discard-only (100::/64), SRv6 (5f00::/16), unique local
// (fc00::/7), link-local (fe80::/10), site-local (fec0::/10), multicast (ff00::/8).
constexpr Range kIpv6[] = {
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, Reach::kAsItsIpv4, 12},  // IPv4-mapped
    {{0, 0x64, 0xff, 0x9b}, 96, Reach::kAsItsIpv4, 12},  // NAT64, well-known prefix (RFC 6052)
    {{0x20, 0x01}, 23},              // IETF protocol assignments: Teredo 2001::/32, benchmarking
                                     // 2001:2::/48, ORCHID 2001:10::/28, ORCHIDv2 2001:20::/28, ...
    {{0x20, 0x01, 0x0d, 0xb8}, 32},  // documentation
    {{0x3f, 0xff}, 20},              // documentation (RFC 9637)
    {{0x20, 0x02}, 16, Reach::kAsItsIpv4, 2},  // 6to4: tunnels to the IPv4 address it embeds
    {{0x20}, 3, Reach::kPublic},               // global unicast
};

bool ipv4_not_public(const std::uint8_t* a) {
  return std::any_of(std::begin(kIpv4NotPublic), std::end(kIpv4NotPublic),
                     [a](const Range& r) { return in(a, r); });
}

bool ipv6_not_public(const std::uint8_t* a) {
  for (const Range& r : kIpv6) {
    if (!in(a, r)) continue;
    if (r.reach == Reach::kAsItsIpv4) return ipv4_not_public(a + r.ipv4_at);
    return r.reach == Reach::kRefused;
  }
  return true;
}

}  // namespace

bool is_private_address(const std::string& address) {
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    return ipv4_not_public(reinterpret_cast<const std::uint8_t*>(&v4.s_addr));
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) return ipv6_not_public(v6.s6_addr);
  return true;  // not an address: refuse
}

namespace {

constexpr const char* kContentType = "Content-Type: application/json";

// A worker's libcurl handle, reused across its sends.
struct Curl {
  CURL* handle = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, kContentType);
  Curl() = default;
  Curl(const Curl&) = delete;
  Curl& operator=(const Curl&) = delete;
  ~Curl() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(handle);
  }
};

// The headers of a message that carries a request id; nullptr when out of memory.
curl_slist* headers_with(const std::string& request_id) {
  curl_slist* list = curl_slist_append(nullptr, kContentType);
  if (!list) return nullptr;
  curl_slist* grown = curl_slist_append(list, ("X-Request-Id: " + request_id).c_str());
  if (!grown) curl_slist_free_all(list);
  return grown;
}

}  // namespace

struct HttpTransport::Impl {
  CURLcode curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT);  // before any worker's handle
  HttpTransportOptions options;
  WorkPool<Curl> pool;

  explicit Impl(HttpTransportOptions o)
      : options(std::move(o)),
        pool({.threads = options.threads, .key_threads_max = options.tenant_threads_max},
             options.thread_name) {}

  // Through a proxy only the proxy's address is connected to: checking it would say nothing of
  // the target's.
  bool checks_addresses() const {
    return !options.allow_private_targets && options.proxy_url.empty();
  }

  static curl_socket_t open_socket(void* self, curlsocktype, curl_sockaddr* address) {
    auto* impl = static_cast<Impl*>(self);
    char text[INET6_ADDRSTRLEN] = {};
    if (address->family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&address->addr)->sin_addr, text,
                sizeof text);
    } else if (address->family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&address->addr)->sin6_addr, text,
                sizeof text);
    }
    if (impl->checks_addresses() && is_private_address(text)) return CURL_SOCKET_BAD;
    return socket(address->family, address->socktype, address->protocol);
  }

  static std::size_t discard(char*, std::size_t size, std::size_t count, void*) {
    return size * count;
  }

  Delivery send(Curl& c, const Parcel& parcel) {
    const std::string& url = parcel.target;
    const std::string& body = parcel.body;
    // The worker's headers, or this message's own with its request id (only an id of the
    // accepted alphabet: a header line cannot be split).
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> with_id(nullptr,
                                                                        curl_slist_free_all);
    if (is_request_id(parcel.request_id)) with_id.reset(headers_with(parcel.request_id));
    CURL* curl = c.handle;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    // "" overrides the environment's http_proxy & co.: directly, unless a proxy is configured.
    curl_easy_setopt(curl, CURLOPT_PROXY, options.proxy_url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options.timeout_ms);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, with_id ? with_id.get() : c.headers);
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
      d.error = rc == CURLE_COULDNT_CONNECT && checks_addresses()
                    ? std::string("could not connect (or the address is not public)")
                    : std::string(curl_easy_strerror(rc));
    }
    return d;
  }
};

HttpTransport::HttpTransport(HttpTransportOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpTransport::~HttpTransport() = default;

void HttpTransport::post(Parcel parcel, std::function<void(Delivery)> done) {
  const std::string tenant = parcel.tenant;
  impl_->pool.post(
      tenant,
      [impl = impl_.get(), parcel = std::move(parcel)](Curl& c) { return impl->send(c, parcel); },
      std::move(done));
}

void HttpTransport::stop() { impl_->pool.stop(); }

}  // namespace payoutd::outbox
