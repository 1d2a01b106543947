#include "rails/https_client.h"

#include <curl/curl.h>
#include <pthread.h>

#include <cctype>
#include <chrono>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/assert.h"

namespace payoutd::rails {

namespace {

using SteadyClock = std::chrono::steady_clock;

// One request from submit() to its answer.
struct Transfer {
  HttpsRequest request;
  HttpsCallback done;
  SteadyClock::time_point started = SteadyClock::now();
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  HttpsResponse response;
  std::size_t body_bytes_max = 0;
  bool attempted = false;  // libcurl reached the point of writing the request (PREREQFUNCTION)
  bool too_large = false;
  char error[CURL_ERROR_SIZE] = {};

  Transfer(HttpsRequest r, HttpsCallback d) : request(std::move(r)), done(std::move(d)) {}
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(easy);
  }
};

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (t->response.body.size() + n > t->body_bytes_max) {
    t->too_large = true;
    return 0;  // libcurl fails the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {  // a new response (after a 1xx, or libcurl's own re-send)
    t->response.headers.clear();
    return n;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  const std::string_view name = line.substr(0, colon);
  for (const std::string& wanted : t->request.response_headers) {
    if (!same_name(name, wanted)) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    t->response.headers.emplace_back(wanted, std::string(value));
  }
  return n;
}

// libcurl calls it once per attempt, on an established connection, just before the request is
// written: from here on, the request may reach the server. A second call is libcurl re-sending
// the request by itself after the first attempt's reused connection died without an answer
// (https_client.h): refused, so that a request is written at most once and its fate stays
// with the caller (a signed request re-sent verbatim would also repeat its nonce).
int on_prerequest(void* user, char*, char*, int, int) {
  auto* t = static_cast<Transfer*>(user);
  if (t->attempted) return CURL_PREREQFUNC_ABORT;
  t->attempted = true;
  return CURL_PREREQFUNC_OK;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

struct HttpsClient::Impl {
  HttpsClientOptions options;
  CURLM* multi = nullptr;
  mutable std::mutex mutex;  // incoming, refused, admitted, stopping
  std::vector<std::unique_ptr<Transfer>> incoming;
  std::vector<std::unique_ptr<Transfer>> refused;  // beyond the queue: answered not sent
  std::vector<std::function<void()>> tasks;
  int admitted = 0;  // incoming + running
  bool stopping = false;
  bool stopped = false;  // the thread has answered everything and ended
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> running;  // the client's thread only
  std::thread thread;

  explicit Impl(HttpsClientOptions o) : options(std::move(o)) {
    global_init();
    multi = curl_multi_init();
    PAYOUTD_ASSERT(multi != nullptr, "curl_multi_init failed");
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, long{options.connections_max});
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, long{options.host_connections_max});
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, long{options.connections_max});
    thread = std::thread([this] {
      pthread_setname_np(pthread_self(), options.thread_name.substr(0, 15).c_str());
      run();
    });
  }

  ~Impl() {
    stop();
    curl_multi_cleanup(multi);
  }

  void submit(std::unique_ptr<Transfer> t) {
    {
      std::lock_guard lock(mutex);
      if (!stopping) {
        if (admitted >= options.connections_max + options.queue_max) {
          refused.push_back(std::move(t));
        } else {
          ++admitted;
          incoming.push_back(std::move(t));
        }
        curl_multi_wakeup(multi);
        return;
      }
    }
    answer_unsent(*t, "the client is stopped");
  }

  void post(std::function<void()> task) {
    {
      std::lock_guard lock(mutex);
      if (!stopping) {
        tasks.push_back(std::move(task));
        curl_multi_wakeup(multi);
        return;
      }
    }
    task();
  }

  void stop() {
    {
      std::lock_guard lock(mutex);
      if (stopped) return;
      stopping = true;
      curl_multi_wakeup(multi);
    }
    if (thread.joinable()) thread.join();
    std::lock_guard lock(mutex);
    stopped = true;
  }

  void answer(Transfer& t) {
    t.response.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t.started)
            .count();
    HttpsCallback done = std::move(t.done);
    done(std::move(t.response));
  }

  void answer_unsent(Transfer& t, std::string why) {
    t.response = HttpsResponse{};
    t.response.sent = false;
    t.response.error = std::move(why);
    answer(t);
  }

  void run() {
    for (;;) {
      std::vector<std::unique_ptr<Transfer>> starting, refusing;
      std::vector<std::function<void()>> due;
      bool stop_now = false;
      {
        std::lock_guard lock(mutex);
        starting.swap(incoming);
        refusing.swap(refused);
        due.swap(tasks);
        stop_now = stopping;
      }
      for (auto& t : refusing) answer_unsent(*t, "too many requests waiting for a connection");
      for (auto& task : due) task();
      if (stop_now) {
        for (auto& t : starting) answer_unsent(*t, "the client is stopped");
        forget(static_cast<int>(starting.size()));
        break;
      }
      for (auto& t : starting) start(std::move(t));
      int running_handles = 0;
      curl_multi_perform(multi, &running_handles);
      collect();
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
    abandon_running();
  }

  void forget(int answered) {
    std::lock_guard lock(mutex);
    admitted -= answered;
  }

  void start(std::unique_ptr<Transfer> t) {
    if (!configure(*t)) {
      answer_unsent(*t, "cannot set up the request");
      forget(1);
      return;
    }
    if (curl_multi_add_handle(multi, t->easy) != CURLM_OK) {
      answer_unsent(*t, "cannot add the request");
      forget(1);
      return;
    }
    CURL* easy = t->easy;
    running.emplace(easy, std::move(t));
  }

  bool configure(Transfer& t) {
    const HttpsRequest& r = t.request;
    PAYOUTD_ASSERT(r.method == "GET" || r.method == "POST", "the client sends GET or POST");
    t.easy = curl_easy_init();
    if (!t.easy) return false;
    t.body_bytes_max = options.body_bytes_max;
    for (const std::string& h : r.headers) t.headers = curl_slist_append(t.headers, h.c_str());
    // No "Expect: 100-continue" round trip before a body.
    t.headers = curl_slist_append(t.headers, "Expect:");
    CURL* e = t.easy;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
                     options.plain_http == PlainHttp::kAllowedInSandbox ? "http,https" : "https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");  // "" overrides the environment's proxy variables
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, long{CURL_HTTP_VERSION_1_1});
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ms));
    curl_easy_setopt(e, CURLOPT_SSLVERSION, long{CURL_SSLVERSION_TLSv1_2});
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options.ca_file.c_str());
    if (!options.client_cert_file.empty()) {
      curl_easy_setopt(e, CURLOPT_SSLCERT, options.client_cert_file.c_str());
      curl_easy_setopt(e, CURLOPT_SSLKEY, options.client_key_file.c_str());
    }
    if (!options.basic_user.empty()) {
      curl_easy_setopt(e, CURLOPT_HTTPAUTH, long{CURLAUTH_BASIC});
      curl_easy_setopt(e, CURLOPT_USERNAME, options.basic_user.c_str());
      curl_easy_setopt(e, CURLOPT_PASSWORD, options.basic_password.c_str());
    }
    curl_easy_setopt(e, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
    if (r.method == "POST") {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
    } else {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prerequest);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, &t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
    return true;
  }

  void collect() {
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      CURL* easy = m->easy_handle;
      const CURLcode rc = m->data.result;
      auto it = running.find(easy);
      PAYOUTD_ASSERT(it != running.end(), "a finished transfer is one the client started");
      std::unique_ptr<Transfer> t = std::move(it->second);
      running.erase(it);
      curl_multi_remove_handle(multi, easy);
      finish(*t, rc);
      answer(*t);
      forget(1);
    }
  }

  // Whether a failed request is conclusively unsent (see the header).
  static bool conclusively_unsent(const Transfer& t, CURLcode rc) {
    if (t.attempted) return false;
    long request_bytes = -1;
    curl_easy_getinfo(t.easy, CURLINFO_REQUEST_SIZE, &request_bytes);
    return rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT ||
           rc == CURLE_SSL_CONNECT_ERROR || request_bytes == 0;
  }

  static void finish(Transfer& t, CURLcode rc) {
    HttpsResponse& r = t.response;
    if (rc == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
      r.completed = true;
      r.sent = true;
      r.status = static_cast<int>(status);
      return;
    }
    r.completed = false;
    r.sent = !conclusively_unsent(t, rc);
    r.status = 0;
    r.body.clear();
    if (t.too_large) {
      r.error = "the response body is larger than the client accepts";
    } else if (rc == CURLE_ABORTED_BY_CALLBACK) {
      r.error = "the connection died after the request was written, before any answer";
    } else {
      r.error = curl_easy_strerror(rc);
      if (t.error[0] != '\0') r.error += std::string(": ") + t.error;
    }
  }

  // On stop: every request still running is answered; sent when libcurl had begun writing it.
  void abandon_running() {
    const int n = static_cast<int>(running.size());
    for (auto& [easy, t] : running) {
      curl_multi_remove_handle(multi, easy);
      const bool sent = t->attempted;
      t->response = HttpsResponse{};
      t->response.sent = sent;
      t->response.error = "the client is stopped";
      answer(*t);
    }
    running.clear();
    forget(n);
  }
};

HttpsClient::HttpsClient(HttpsClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpsClient::~HttpsClient() = default;

void HttpsClient::submit(HttpsRequest request, HttpsCallback done) {
  impl_->submit(std::make_unique<Transfer>(std::move(request), std::move(done)));
}

void HttpsClient::post(std::function<void()> task) { impl_->post(std::move(task)); }

void HttpsClient::stop() { impl_->stop(); }

int HttpsClient::pending() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->admitted;
}

}  // namespace payoutd::rails
