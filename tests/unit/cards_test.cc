// Card numbers, the BIN table, the vault, and the scheduler's earliest-time rule.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "cards/card.h"
#include "cards/vault.h"
#include "engine/scheduler.h"

namespace payoutd::cards {
namespace {

TEST(Pan, LuhnAcceptsTheTestCardsAndRefusesTheBadOne) {
  for (const char* pan : {"4111111111111111", "5555555555554444", "4000000000000002",
                          "4000000000000127", "4242424242424242", "4999990000000007"}) {
    EXPECT_TRUE(luhn_valid(pan)) << pan;
  }
  EXPECT_FALSE(luhn_valid("4111111111111112"));
  EXPECT_FALSE(luhn_valid("4111 1111 1111 1111"));
  EXPECT_FALSE(luhn_valid(""));
  EXPECT_FALSE(all_digits("12a4"));
}

TEST(Pan, MaskShowsAtMostTheFirstSixAndTheLastFour) {
  EXPECT_EQ(mask_pan("4111111111111111"), "411111XXXXXX1111");
  EXPECT_EQ(mask_pan("4111111111111111234"), "411111XXXXXXXXX1234");
  EXPECT_EQ(mask_pan("4111111111111"), "411111XXX1111");
  EXPECT_EQ(mask_pan("12345678"), "XXXXXX78");
}

constexpr std::string_view kBins =
    "# comment\n"
    "400000,400000,VISA,KZ,Bank A\n"
    "4000000000000127,4000000000000127,VISA,CA,Bank B\n"
    "555555,555599,MASTERCARD,KZ,Bank C\r\n";

TEST(BinTable, TheNarrowestRangeWins) {
  const BinTable t = BinTable::parse(kBins, "test");
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.find("4000000000000002")->country, "KZ");
  EXPECT_EQ(t.find("4000000000000127")->country, "CA");
  EXPECT_EQ(t.find("4000000000000127")->name, "Bank B");
  EXPECT_EQ(t.find("5555905555554444")->scheme, "MASTERCARD");
  EXPECT_FALSE(t.find("4999990000000007"));
}

TEST(BinTable, MalformedLinesNameTheirPlace) {
  EXPECT_THROW(BinTable::parse("400000,VISA,KZ\n", "f"), std::runtime_error);
  EXPECT_THROW(BinTable::parse("4000,400000,VISA,KZ,B\n", "f"), std::runtime_error);
  EXPECT_THROW(BinTable::parse("500000,400000,VISA,KZ,B\n", "f"), std::runtime_error);
  EXPECT_THROW(BinTable::parse("400000,400000,VISA,KAZ,B\n", "f"), std::runtime_error);
  try {
    BinTable::parse("\n400000,VISA\n", "bins.csv");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bins.csv:2"), std::string::npos) << e.what();
  }
}

constexpr std::string_view kKek =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

Key key_of(std::string_view hex) { return parse_key_encryption_key(hex)->key; }

TEST(Vault, KeysAreParsedAndSandboxKeysMarked) {
  EXPECT_FALSE(parse_key_encryption_key(kKek)->sandbox_only);
  EXPECT_TRUE(parse_key_encryption_key("sandbox-only:" + std::string(kKek))->sandbox_only);
  EXPECT_FALSE(parse_key_encryption_key(kKek.substr(2)));
  EXPECT_FALSE(parse_key_encryption_key(std::string(kKek.substr(2)) + "zz"));
}

TEST(Vault, SealsOpensAndBindsEachCardToItsRecord) {
  Vault vault(key_of(kKek));
  const std::string wrapped = vault.new_wrapped_data_key();
  ASSERT_TRUE(vault.open(wrapped));
  const std::string sealed = vault.seal("bereke:p", "card-1", "4111111111111111");
  EXPECT_EQ(sealed.find("4111111111111111"), std::string::npos);
  EXPECT_EQ(vault.unseal("bereke:p", "card-1", sealed), "4111111111111111");
  EXPECT_FALSE(vault.unseal("bereke:p", "card-2", sealed));  // copied onto another card
  EXPECT_FALSE(vault.unseal("bereke:q", "card-1", sealed));  // or another tenant
  std::string tampered = sealed;
  tampered[tampered.size() - 1] = tampered.back() == '0' ? '1' : '0';
  EXPECT_FALSE(vault.unseal("bereke:p", "card-1", tampered));
  EXPECT_NE(vault.seal("bereke:p", "card-1", "4111111111111111"), sealed);  // a new nonce each time

  // Another process with the same KEK opens the stored data key and reads the card.
  Vault again(key_of(kKek));
  ASSERT_TRUE(again.open(wrapped));
  EXPECT_EQ(again.unseal("bereke:p", "card-1", sealed), "4111111111111111");
  EXPECT_EQ(again.fingerprint("bereke:p", "4111111111111111"),
            vault.fingerprint("bereke:p", "4111111111111111"));
  EXPECT_NE(vault.fingerprint("bereke:q", "4111111111111111"),
            vault.fingerprint("bereke:p", "4111111111111111"));

  // A wrong KEK does not open it.
  Vault wrong(key_of("ff" + std::string(kKek.substr(2))));
  EXPECT_FALSE(wrong.open(wrapped));
  EXPECT_FALSE(wrong.is_open());
}

}  // namespace
}  // namespace payoutd::cards

namespace payoutd::engine {
namespace {

TEST(Scheduler, AnIdFiresOnceAtTheEarliestTimeItWaitsFor) {
  SystemClock clock;
  std::atomic<int> fired{0};
  Scheduler scheduler(clock, [&](std::int64_t id) {
    if (id == 7) ++fired;
  });
  scheduler.start();
  const std::int64_t now = clock.now_ms();
  scheduler.schedule(7, now + 60'000);
  scheduler.schedule(7, now + 20);       // earlier: wins
  scheduler.schedule(7, now + 120'000);  // later: ignored
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (fired.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(fired.load(), 1);
  scheduler.stop();
}

}  // namespace
}  // namespace payoutd::engine
