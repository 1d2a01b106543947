// The config loader: each key takes exactly its type, limits refuse what is outside them (NaN
// included), and load_config reads what parse_config parses.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "app/config.h"

namespace payoutd::app {
namespace {

// The message parse_config throws for `text`, or "" when it accepts it.
std::string refusal(const std::string& text) {
  try {
    parse_config(text, "/etc/payoutd/test.toml");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, RetryWaitsRefuseNotANumberAndWaitsUnderAMillisecond) {
  for (const char* wait : {"nan", "-nan", "inf", "0", "-1", "0.0000001", "0.0009", "86401"}) {
    const std::string message =
        refusal(std::string("sandbox = true\n[outbox]\nretry_s = [10, ") + wait + "]\n");
    EXPECT_NE(message.find("outbox.retry_s"), std::string::npos) << wait << ": " << message;
  }
  const Config config =
      parse_config("sandbox = true\n[outbox]\nretry_s = [0.001, 2, 86400]\n", "test.toml");
  EXPECT_EQ(config.dispatch.retry_ms, (std::vector<std::int64_t>{1, 2000, 86'400'000}));
}

TEST(Config, KeysTakeExactlyTheirType) {
  for (const char* text : {"sandbox = 1\n", "sandbox = true\n[server]\nio_threads = 2.0\n",
                           "sandbox = true\n[server]\nio_threads = true\n",
                           "sandbox = true\n[server]\nbody_limit_bytes = 1e308\n",
                           "sandbox = true\n[outbox]\nallow_private_targets = 0\n"}) {
    EXPECT_NE(refusal(text).find("has the wrong type"), std::string::npos) << text;
  }
  const Config config = parse_config("sandbox = true\n[server]\nio_threads = 2\n", "test.toml");
  EXPECT_TRUE(config.sandbox);
  EXPECT_EQ(config.server.io_threads, 2);
}

TEST(Config, LoadReadsTheFileParseConfigWouldParse) {
  const std::string path = std::string(PAYOUTD_SOURCE_DIR) + "/config/sandbox.toml";
  const Config config = load_config(path);
  EXPECT_TRUE(config.sandbox);
  EXPECT_EQ(config.bin_table, std::string(PAYOUTD_SOURCE_DIR) + "/config/../data/bins-sandbox.csv");
  EXPECT_THROW(load_config(path + ".missing"), std::runtime_error);
  EXPECT_THROW(load_config(std::string(PAYOUTD_SOURCE_DIR) + "/config"), std::runtime_error);
}

}  // namespace
}  // namespace payoutd::app
