// Whether a PostgreSQL URL keeps the connection on this machine or sends it out over TLS with the
// server's name verified (postgres_store.h).
#include <arpa/inet.h>
#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/postgres_store.h"

namespace payoutd::store {
namespace {

// This machine: a Unix socket's directory (or an abstract socket), localhost, a loopback address.
bool on_this_machine(std::string_view host) {
  if (host.starts_with('/') || host.starts_with('@') || host == "localhost") return true;
  const std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, h.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

std::vector<std::string_view> comma_separated(std::string_view list) {
  std::vector<std::string_view> items;
  for (std::size_t start = 0;;) {
    const std::size_t end = list.find(',', start);
    items.push_back(list.substr(start, end - start));
    if (end == std::string_view::npos) return items;
    start = end + 1;
  }
}

}  // namespace

std::string postgres_url_refusal(const std::string& url) {
  char* error = nullptr;
  const std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(url.c_str(), &error), &PQconninfoFree);
  if (!options) {
    // libpq's message may quote the URL, and with it a password: not repeated.
    PQfreemem(error);
    return "is not a PostgreSQL connection URI or key=value string";
  }
  std::string_view host, hostaddr, sslmode;
  for (const PQconninfoOption* o = options.get(); o->keyword; ++o) {
    const std::string_view key = o->keyword;
    const std::string_view value = o->val ? o->val : "";
    if (key == "host") host = value;
    if (key == "hostaddr") hostaddr = value;
    if (key == "sslmode") sslmode = value;
  }
  // hostaddr, when set, is where libpq connects; host then only names the server for TLS.
  bool local = true;
  for (std::string_view h : comma_separated(hostaddr.empty() ? host : hostaddr)) {
    local = local && (h.empty() || on_this_machine(h));  // empty: the default Unix socket
  }
  if (local || sslmode == "verify-full") return "";
  return "connects to another machine: outside the sandbox it must set sslmode=verify-full (TLS, "
         "with the server's certificate and name verified)";
}

}  // namespace payoutd::store
