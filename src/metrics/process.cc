#include "metrics/process.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace payoutd::metrics {
namespace {

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::int64_t> number(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The fields of /proc/self/stat after the command's closing parenthesis (which may itself hold
// spaces and parentheses): fields[0] is field 3 of proc(5), the state.
std::vector<std::string_view> stat_fields(const std::string& stat) {
  std::vector<std::string_view> fields;
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return fields;
  std::string_view rest(stat);
  rest.remove_prefix(close + 1);
  while (!rest.empty()) {
    const std::size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const std::size_t end = std::min(rest.find_first_of(" \n"), rest.size());
    fields.push_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  return fields;
}

// proc(5)'s field number `n` (1-based) of /proc/self/stat.
std::optional<std::int64_t> stat_field(const std::vector<std::string_view>& fields, std::size_t n) {
  if (n < 3 || n - 3 >= fields.size()) return std::nullopt;
  return number(fields[n - 3]);
}

// When the system booted, in seconds since the epoch (/proc/stat's btime).
std::optional<std::int64_t> boot_time_s() {
  std::ifstream in("/proc/stat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("btime ")) return number(std::string_view(line).substr(6));
  }
  return std::nullopt;
}

void gauge(Exposition& out, std::string_view name, std::string_view help,
           std::optional<std::int64_t> value, Scale scale = Scale::kOne) {
  if (!value) return;
  out.family(name, Type::kGauge, help);
  out.sample({}, *value, scale);
}

std::optional<std::int64_t> open_fds() {
  std::error_code ec;
  std::int64_t count = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++count;
  }
  if (ec) return std::nullopt;
  return count - 1;  // the iterator's own descriptor of the directory
}

}  // namespace

void write_process(Exposition& out) {
  const std::int64_t page_bytes = ::sysconf(_SC_PAGESIZE);
  const std::int64_t ticks_per_s = ::sysconf(_SC_CLK_TCK);
  const std::string stat = read_file("/proc/self/stat");
  const std::vector<std::string_view> fields = stat_fields(stat);

  if (const auto utime = stat_field(fields, 14), stime = stat_field(fields, 15);
      utime && stime && ticks_per_s > 0) {
    out.family("process_cpu_seconds_total", Type::kCounter,
               "Total user and system CPU time spent in seconds.");
    out.sample({}, (*utime + *stime) * 1'000'000 / ticks_per_s, Scale::kMicro);
  }
  gauge(out, "process_open_fds", "Number of open file descriptors.", open_fds());
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    gauge(out, "process_max_fds", "Maximum number of open file descriptors.",
          static_cast<std::int64_t>(limit.rlim_cur));
  }
  const std::string statm = ") " + read_file("/proc/self/statm");  // stat_fields' shape
  const std::vector<std::string_view> pages = stat_fields(statm);
  if (pages.size() >= 2) {
    const auto size = number(pages[0]), resident = number(pages[1]);
    if (size) {
      gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
            *size * page_bytes);
    }
    if (resident) {
      gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.",
            *resident * page_bytes);
    }
  }
  const auto start_ticks = stat_field(fields, 22);
  const auto boot_s = boot_time_s();
  if (start_ticks && boot_s && ticks_per_s > 0) {
    // Microseconds since the epoch, written in seconds.
    gauge(out, "process_start_time_seconds",
          "Start time of the process since unix epoch in seconds.",
          *boot_s * 1'000'000 + *start_ticks * 1'000'000 / ticks_per_s, Scale::kMicro);
  }
  gauge(out, "process_threads", "Number of OS threads in the process.", stat_field(fields, 20));
}

}  // namespace payoutd::metrics
