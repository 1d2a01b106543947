#include "outbox/mail_transport.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "core/files.h"
#include "core/json.h"

namespace payoutd::outbox {

std::string write_to_sink(const std::string& dir, const std::string& message,
                          std::string_view extension) {
  static std::atomic<std::uint64_t> counter{0};
  try {
    make_private_directory(dir);
  } catch (const std::exception& e) {
    return std::string("sink: ") + e.what();
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  const std::string name = std::to_string(ms) + "-" + std::to_string(++counter) + "-" +
                           std::to_string(::getpid()) + std::string(extension);
  const std::string tmp = dir + "/." + name;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return std::string("sink: ") + errno_text(errno);
  std::size_t written = 0;
  while (written < message.size()) {
    const ssize_t n = ::write(fd, message.data() + written, message.size() - written);
    if (n <= 0) {
      ::close(fd);
      return std::string("sink: ") + errno_text(errno);
    }
    written += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(tmp.c_str(), (dir + "/" + name).c_str()) != 0) {
    return std::string("sink: ") + errno_text(errno);
  }
  return {};
}

namespace {

constexpr std::string_view kMailto = "mailto:";
constexpr std::string_view kSms = "sms:";

struct Upload {
  const std::string* data;
  std::size_t offset = 0;
};

std::size_t read_upload(char* out, std::size_t size, std::size_t count, void* user) {
  auto* u = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, u->data->size() - u->offset);
  // NOLINTNEXTLINE(bugprone-not-null-terminated-result): curl reads n bytes, no terminator.
  std::memcpy(out, u->data->data() + u->offset, n);
  u->offset += n;
  return n;
}

}  // namespace

struct MailTransport::Impl {
  CURLcode curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT);
  MailTransportOptions options;
  WorkPool<NoWorkerState> pool{{.threads = 1}, "mail"};

  explicit Impl(MailTransportOptions o) : options(std::move(o)) {}

  // `to`: the recipient's address; `message`: the whole RFC 5322 message.
  Delivery send(const std::string& to, const std::string& message) {
    Delivery d;
    const auto started = std::chrono::steady_clock::now();
    if (options.smtp_url.empty()) {
      d.error = write_to_sink(options.sink_dir, message, ".eml");
      d.http_status = d.error.empty() ? 250 : 0;
    } else {
      CURL* curl = curl_easy_init();
      curl_slist* rcpt = curl_slist_append(nullptr, ("<" + to + ">").c_str());
      Upload upload{&message};
      curl_easy_setopt(curl, CURLOPT_URL, options.smtp_url.c_str());
      curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
      curl_easy_setopt(curl, CURLOPT_MAIL_FROM, ("<" + options.from + ">").c_str());
      curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
      curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
      curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(curl, CURLOPT_PROXY, "");  // not all_proxy's either: directly
      curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
      curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options.timeout_ms);
      curl_easy_setopt(curl, CURLOPT_USE_SSL,
                       static_cast<long>(options.require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY));
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
      const CURLcode rc = curl_easy_perform(curl);
      long code = 0;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
      if (rc == CURLE_OK) {
        d.http_status = code ? static_cast<int>(code) : 250;
      } else {
        d.http_status = static_cast<int>(code);
        d.error = curl_easy_strerror(rc);
      }
      curl_slist_free_all(rcpt);
      curl_easy_cleanup(curl);
    }
    d.accepted = d.error.empty();
    d.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    return d;
  }
};

MailTransport::MailTransport(MailTransportOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

MailTransport::~MailTransport() = default;

void MailTransport::post(Parcel parcel, std::function<void(Delivery)> done) {
  std::string to = parcel.target.substr(std::min(parcel.target.size(), kMailto.size()));
  impl_->pool.post(
      parcel.tenant,
      [impl = impl_.get(), to = std::move(to), message = std::move(parcel.body)](NoWorkerState&) {
        return impl->send(to, message);
      },
      std::move(done));
}

void MailTransport::stop() { impl_->pool.stop(); }

void RoutingTransport::post(Parcel parcel, std::function<void(Delivery)> done) {
  const store::OutboxLane lane = store::outbox_lane(parcel.target);
  Transport& via = lane == store::OutboxLane::kMail  ? mail_
                   : lane == store::OutboxLane::kSms ? sms_
                                                     : web_;
  via.post(std::move(parcel), std::move(done));
}

void RoutingTransport::stop() {
  web_.stop();
  mail_.stop();
  sms_.stop();
}

void SmsTransport::post(Parcel parcel, std::function<void(Delivery)> done) {
  const std::string phone = parcel.target.substr(std::min(parcel.target.size(), kSms.size()));
  const std::string& text = parcel.body;
  if (!options_.gateway_url.empty()) {
    std::string body;
    json::Writer w(body);
    w.begin_object().key("to").string(phone).key("text").string(text).end_object();
    return gateway_.post({.tenant = std::move(parcel.tenant),
                          .target = options_.gateway_url,
                          .body = std::move(body),
                          .request_id = std::move(parcel.request_id)},
                         std::move(done));
  }
  sink_.post(
      parcel.tenant,
      [dir = options_.sink_dir, message = "To: " + phone + "\n\n" + text + "\n"](NoWorkerState&) {
        const auto started = std::chrono::steady_clock::now();
        Delivery d;
        d.error = write_to_sink(dir, message, ".sms");
        d.accepted = d.error.empty();
        d.http_status = d.accepted ? 250 : 0;
        d.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
        return d;
      },
      std::move(done));
}

void SmsTransport::stop() {
  gateway_.stop();
  sink_.stop();
}

}  // namespace payoutd::outbox
