// The cabinet's roles (cabinet/roles.h): the config's names, what each allows, and how the config
// reads a user's list.
#include "cabinet/roles.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "app/config.h"

namespace payoutd::cabinet {
namespace {

TEST(CabinetRoles, EachRoleAllowsItsOwnRoutesAndViewing) {
  const ParsedRoles viewer = parse_roles({"viewer"});
  ASSERT_EQ(viewer.error, RolesError::kNone);
  EXPECT_TRUE(viewer.roles.allows(Role::kViewer));
  EXPECT_FALSE(viewer.roles.allows(Role::kCards));
  EXPECT_FALSE(viewer.roles.allows(Role::kSettings));

  const ParsedRoles cards = parse_roles({"cards"});
  ASSERT_EQ(cards.error, RolesError::kNone);
  EXPECT_TRUE(cards.roles.allows(Role::kViewer));  // viewing is the floor
  EXPECT_TRUE(cards.roles.allows(Role::kCards));
  EXPECT_FALSE(cards.roles.allows(Role::kSettings));

  const ParsedRoles settings = parse_roles({"settings"});
  ASSERT_EQ(settings.error, RolesError::kNone);
  EXPECT_TRUE(settings.roles.allows(Role::kViewer));
  EXPECT_FALSE(settings.roles.allows(Role::kCards));
  EXPECT_TRUE(settings.roles.allows(Role::kSettings));
}

TEST(CabinetRoles, RolesCombineAndRepeatHarmlessly) {
  const ParsedRoles both = parse_roles({"settings", "cards", "cards"});
  ASSERT_EQ(both.error, RolesError::kNone);
  EXPECT_EQ(both.roles, Roles::all());
  EXPECT_EQ(parse_roles({"viewer", "cards", "settings"}).roles, Roles::all());
  EXPECT_EQ(parse_roles({"viewer", "viewer"}).roles, parse_roles({"viewer"}).roles);
}

TEST(CabinetRoles, NoRolesAllowNothingAndEveryRoleAllowsAll) {
  for (Role r : {Role::kViewer, Role::kCards, Role::kSettings}) {
    EXPECT_FALSE(Roles().allows(r)) << role_name(r);
    EXPECT_TRUE(Roles::all().allows(r)) << role_name(r);
  }
}

TEST(CabinetRoles, UnknownNamesAndEmptyListsAreRefused) {
  const ParsedRoles unknown = parse_roles({"viewer", "admin"});
  EXPECT_EQ(unknown.error, RolesError::kUnknown);
  EXPECT_EQ(unknown.unknown, "admin");
  EXPECT_EQ(parse_roles({"Viewer"}).error, RolesError::kUnknown);  // names are exact
  EXPECT_EQ(parse_roles({""}).error, RolesError::kUnknown);
  EXPECT_EQ(parse_roles({}).error, RolesError::kEmpty);
  EXPECT_EQ(role_names(), "viewer, cards, settings");
}

std::string sandbox_path() { return std::string(PAYOUTD_SOURCE_DIR) + "/config/sandbox.toml"; }

std::string sandbox_text() {
  std::ifstream in(sandbox_path());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const User* user_of(const app::Config& c, std::string_view login) {
  for (const User& u : c.cabinet.users) {
    if (u.login == login) return &u;
  }
  return nullptr;
}

TEST(CabinetRoles, TheConfigGivesEachUserItsRolesAndEveryRoleToUsersThatListNone) {
  const app::Config c = app::load_config(sandbox_path());
  const User* viewer = user_of(c, "bereke-viewer");
  ASSERT_NE(viewer, nullptr);
  EXPECT_EQ(viewer->tenant.key(), "bereke:sandbox-partner");
  EXPECT_EQ(viewer->roles, parse_roles({"viewer"}).roles);
  const User* partner = user_of(c, "payout_api_username");
  ASSERT_NE(partner, nullptr);
  EXPECT_EQ(partner->roles, Roles::all());
  const User* merchant = user_of(c, "merchant-91348");  // lists none
  ASSERT_NE(merchant, nullptr);
  EXPECT_EQ(merchant->roles, Roles::all());
}

// The message the sandbox config gets with the viewer's roles line replaced by `roles`.
std::string refusal(const std::string& roles) {
  std::string text = sandbox_text();
  const std::string line = "roles = [\"viewer\"]";
  const auto at = text.find(line);
  EXPECT_NE(at, std::string::npos);
  text.replace(at, line.size(), roles);
  try {
    app::parse_config(text, sandbox_path());
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(CabinetRoles, TheConfigRefusesRolesThatAreNotAListOfRoleNames) {
  EXPECT_EQ(refusal("roles = [\"cards\"]"), "");
  for (const char* bad : {"roles = [\"admin\"]", "roles = []", "roles = \"viewer\"", "roles = [1]",
                          "roles = [\"viewer\", \"Cards\"]"}) {
    const std::string message = refusal(bad);
    EXPECT_NE(message.find("cabinet.users[1].roles"), std::string::npos) << bad << ": " << message;
    EXPECT_NE(message.find("viewer, cards, settings"), std::string::npos) << bad << ": " << message;
  }
  EXPECT_NE(refusal("roles = [\"admin\"]").find("\"admin\" is not a role"), std::string::npos);
}

}  // namespace
}  // namespace payoutd::cabinet
