#include "core/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace payoutd {
namespace {

TEST(HistoryUuid, CarriesItsPosition) {
  for (std::int64_t account : {std::int64_t{1}, std::int64_t{7}, kHistoryAccountMax}) {
    for (std::int64_t seq : {std::int64_t{1}, std::int64_t{205}, kHistorySeqMax}) {
      const std::string id = new_history_uuid(account, seq);
      ASSERT_EQ(id.size(), 36u);
      EXPECT_EQ(id[14], '8') << id;  // version 8
      const auto decoded = decode_history_uuid(id);
      ASSERT_TRUE(decoded) << id;
      EXPECT_EQ(decoded->first, account);
      EXPECT_EQ(decoded->second, seq);
    }
  }
}

// Uniqueness comes from the position (one id is ever minted per position), not from the random
// bits: distinct positions always give distinct ids.
TEST(HistoryUuid, DistinctPositionsGiveDistinctIds) {
  std::set<std::string> ids;
  for (std::int64_t account = 1; account <= 20; ++account) {
    for (std::int64_t seq = 1; seq <= 100; ++seq) ids.insert(new_history_uuid(account, seq));
  }
  EXPECT_EQ(ids.size(), 2000u);
}

TEST(HistoryUuid, RejectsEverythingElse) {
  const std::string good = new_history_uuid(12, 34);
  std::string upper = good;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& bad :
       {std::string(), std::string("txn4"), std::string("0a58b04f-23e2-ce66-4a93-e8dfdc3094e3"),
        good.substr(1), good + "0", upper, std::string(36, '-'),
        std::string("00000000-0000-8000-8000-000000000000"),  // account 0, seq 0
        good.substr(0, 8) + "x" + good.substr(9)}) {
    EXPECT_FALSE(decode_history_uuid(bad)) << bad;
  }
}

}  // namespace
}  // namespace payoutd
