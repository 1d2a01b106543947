#include "core/files.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace payoutd {
namespace {

// chmod to `mode` when the file exists with another mode; nothing when it does not exist.
void restrict(const std::string& path, mode_t mode) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw std::runtime_error("cannot stat " + path + ": " + errno_text(errno));
  }
  if ((st.st_mode & 07777) == mode) return;
  if (::chmod(path.c_str(), mode) != 0) {
    throw std::runtime_error("cannot make " + path + " private: " + errno_text(errno));
  }
}

}  // namespace

std::string errno_text(int err) {
  char buffer[256];
  // The GNU strerror_r (_GNU_SOURCE): the message, in `buffer` or in static storage.
  return ::strerror_r(err, buffer, sizeof buffer);
}

void make_private_directory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create " + dir + ": " + ec.message());
  restrict(dir, 0700);
}

void make_private_database(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) restrict(path + suffix, 0600);
}

}  // namespace payoutd
