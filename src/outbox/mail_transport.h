#pragma once
// The outbox's mail transport: messages whose target is "mailto:<address>" and whose body is a
// complete RFC 5322 message. With an SMTP server configured they are sent through it (libcurl's
// SMTP client: MAIL FROM, RCPT TO, DATA); without one (the sandbox's default) they are written
// to a mail sink, a directory of .eml files that developers and tests read.
#include <memory>
#include <string>

#include "outbox/dispatcher.h"
#include "outbox/work_pool.h"

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

// Text messages ("sms:<phone>" targets; the body is the text): POSTed as {"to","text"} JSON to an
// SMS gateway's URL through `web`, or, without a gateway (the sandbox's default), written to an
// SMS sink, a directory of .sms files ("To: <phone>", a blank line, the text).
struct SmsTransportOptions {
  std::string gateway_url;
  std::string sink_dir;
};

class SmsTransport final : public Transport {
 public:
  SmsTransport(SmsTransportOptions options, Transport& web) : options_(std::move(options)), web_(web) {}
  void post(std::string target, std::string text, std::function<void(Delivery)> done) override;
  void stop() override;

 private:
  SmsTransportOptions options_;
  Transport& web_;
  WorkPool<NoWorkerState> sink_{1, "sms"};  // the sink's writes (fsync) off the dispatcher
};

// Sends "mailto:" targets through `mail`, "sms:" through `sms`, and everything else through `web`.
class RoutingTransport final : public Transport {
 public:
  RoutingTransport(Transport& web, Transport& mail, Transport& sms) : web_(web), mail_(mail), sms_(sms) {}
  void post(std::string target, std::string body, std::function<void(Delivery)> done) override;
  void stop() override;

 private:
  Transport& web_;
  Transport& mail_;
  Transport& sms_;
};

// Writes `message` as <dir>/<ms>-<n>-<pid><extension>, whole or not at all (a temporary name,
// fsync, rename): the sinks of the sandbox's mail and SMS. An error's text, or empty.
std::string write_to_sink(const std::string& dir, const std::string& message, std::string_view extension);

}  // namespace payoutd::outbox
