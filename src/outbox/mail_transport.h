#pragma once
// The outbox's mail transport: messages whose target is "mailto:<address>" and whose body is a
// complete RFC 5322 message. With an SMTP server configured they are sent through it (libcurl's
// SMTP client: MAIL FROM, RCPT TO, DATA); without one (the sandbox's default) they are written
// to a mail sink, a directory of .eml files that developers and tests read.
#include <memory>
#include <string>

#include "outbox/dispatcher.h"

namespace payoutd::outbox {

struct MailTransportOptions {
  std::string smtp_url;  // e.g. smtp://mail.example:587; empty: the sink directory
  std::string from = "payouts@payoutd.local";
  std::string sink_dir;  // where messages go without an SMTP server
  long timeout_ms = 15000;
};

class MailTransport final : public Transport {
 public:
  explicit MailTransport(MailTransportOptions options);
  ~MailTransport() override;
  void post(std::string target, std::string message, std::function<void(Delivery)> done) override;
  void stop() override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Sends "mailto:" targets through `mail` and everything else through `web`.
class RoutingTransport final : public Transport {
 public:
  RoutingTransport(Transport& web, Transport& mail) : web_(web), mail_(mail) {}
  void post(std::string target, std::string body, std::function<void(Delivery)> done) override;
  void stop() override;

 private:
  Transport& web_;
  Transport& mail_;
};

}  // namespace payoutd::outbox
