#pragma once
// The outbox's mail transport: messages whose target is "mailto:<address>" and whose body is a
// complete RFC 5322 message. With an SMTP server configured they are sent through it (libcurl's
// SMTP client: MAIL FROM, RCPT TO, DATA), from a thread of their own (the mail lane); without one
// (the sandbox's default) they are written to a mail sink, a directory of .eml files that
// developers and tests read. With `require_tls` (the default outside the sandbox) a message goes
// only over TLS: smtps://, or smtp:// upgraded by STARTTLS, with the server's certificate
// verified; a server that does not offer STARTTLS gets nothing (no one on the path can strip
// it). Without it (the sandbox), STARTTLS is used when offered. Proxy variables of the
// environment are ignored: it always connects directly.
#include <memory>
#include <string>

#include "outbox/dispatcher.h"
#include "outbox/work_pool.h"

namespace payoutd::outbox {

struct MailTransportOptions {
  std::string smtp_url;  // e.g. smtp://mail.example:587; empty: the sink directory
  std::string from = "payouts@payoutd.local";
  std::string sink_dir;  // where messages go without an SMTP server
  bool require_tls = true;
  long connect_timeout_ms = 2000;
  long timeout_ms = 30000;
};

class MailTransport final : public Transport {
 public:
  explicit MailTransport(MailTransportOptions options);
  ~MailTransport() override;
  void post(Parcel parcel, std::function<void(Delivery)> done) override;
  void stop() override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Text messages ("sms:<phone>" targets; the body is the text): POSTed as {"to","text"} JSON to an
// SMS gateway's URL through `gateway`, the SMS lane's own HTTP transport (stopped with this one),
// or, without a gateway (the sandbox's default), written to an SMS sink, a directory of .sms
// files ("To: <phone>", a blank line, the text).
struct SmsTransportOptions {
  std::string gateway_url;
  std::string sink_dir;
};

class SmsTransport final : public Transport {
 public:
  SmsTransport(SmsTransportOptions options, Transport& gateway)
      : options_(std::move(options)), gateway_(gateway) {}
  void post(Parcel parcel, std::function<void(Delivery)> done) override;
  void stop() override;

 private:
  SmsTransportOptions options_;
  Transport& gateway_;
  WorkPool<NoWorkerState> sink_{{.threads = 1},
                                "sms"};  // the sink's writes (fsync) off the dispatcher
};

// Sends each message through its lane's transport (store::outbox_lane): "mailto:" targets
// through `mail`, "sms:" through `sms`, and everything else through `web`.
class RoutingTransport final : public Transport {
 public:
  RoutingTransport(Transport& web, Transport& mail, Transport& sms)
      : web_(web), mail_(mail), sms_(sms) {}
  void post(Parcel parcel, std::function<void(Delivery)> done) override;
  void stop() override;

 private:
  Transport& web_;
  Transport& mail_;
  Transport& sms_;
};

// Writes `message` as <dir>/<ms>-<n>-<pid><extension>, whole or not at all (a temporary name,
// fsync, rename): the sinks of the sandbox's mail and SMS. An error's text, or empty.
std::string write_to_sink(const std::string& dir, const std::string& message,
                          std::string_view extension);

}  // namespace payoutd::outbox
