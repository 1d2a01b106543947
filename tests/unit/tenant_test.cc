#include "core/tenant.h"

#include <gtest/gtest.h>

#include <map>

namespace payoutd {
namespace {

TEST(Tenant, KeyIsTheStoredFormProviderColonId) {
  EXPECT_EQ((Tenant{"bereke", "sandbox-partner"}.key()), "bereke:sandbox-partner");
  EXPECT_EQ((Tenant{"ecommpay", "91348"}.key()), "ecommpay:91348");
  EXPECT_EQ((Tenant{"qiwi", "a:b"}.key()), "qiwi:a:b");
}

TEST(Tenant, ParseReadsBackEveryKey) {
  for (const Tenant& t :
       {Tenant{"bereke", "sandbox-partner"}, Tenant{"ecommpay", "91348"},
        Tenant{"qiwi", "best-partner"}, Tenant{"qiwi", "a:b"}, Tenant{"x", "y"}}) {
    const auto parsed = Tenant::parse(t.key());
    ASSERT_TRUE(parsed) << t.key();
    EXPECT_EQ(*parsed, t);
  }
}

TEST(Tenant, ParseSplitsAtTheFirstColon) {
  const auto t = Tenant::parse("qiwi:product:with:colons");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->provider, "qiwi");
  EXPECT_EQ(t->id, "product:with:colons");
}

TEST(Tenant, ParseRefusesAnEmptyProviderOrIdOrNoSeparator) {
  EXPECT_FALSE(Tenant::parse(""));
  EXPECT_FALSE(Tenant::parse(":"));
  EXPECT_FALSE(Tenant::parse("bereke"));
  EXPECT_FALSE(Tenant::parse("bereke:"));
  EXPECT_FALSE(Tenant::parse(":sandbox-partner"));
  EXPECT_FALSE(Tenant::parse("::x"));
}

TEST(Tenant, ComparesByProviderThenId) {
  EXPECT_EQ((Tenant{"bereke", "p"}), (Tenant{"bereke", "p"}));
  EXPECT_NE((Tenant{"bereke", "p"}), (Tenant{"ecommpay", "p"}));
  EXPECT_NE((Tenant{"bereke", "p"}), (Tenant{"bereke", "q"}));
  EXPECT_LT((Tenant{"bereke", "z"}), (Tenant{"ecommpay", "a"}));
  EXPECT_LT((Tenant{"qiwi", "a"}), (Tenant{"qiwi", "b"}));
}

TEST(Tenant, OrdersAsAMapKey) {
  std::map<Tenant, int> limits;
  limits[{"ecommpay", "2"}] = 2;
  limits[{"ecommpay", "1"}] = 1;
  EXPECT_EQ(limits.begin()->first.id, "1");
}

TEST(TenantDeathTest, KeyOfAProviderNameWithAColonIsABug) {
  EXPECT_DEATH((void)(Tenant{"bad:name", "1"}.key()), "provider");
  EXPECT_DEATH((void)(Tenant{"", "1"}.key()), "provider");
}

}  // namespace
}  // namespace payoutd
