// The pages' templates: every value escaped unless a template says otherwise, every name a
// template uses present in its data, every embedded template whole.
#include <gtest/gtest.h>

#include <algorithm>

#include "web/template.h"

namespace payoutd::web {
namespace {

constexpr std::string_view kHostile = R"(<script>alert("x") & 'y'</script>)";
constexpr std::string_view kHostileEscaped =
    "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;";

::testing::AssertionResult Contains(const std::string& html, const std::string& part) {
  if (html.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no " << part << " in " << html;
}

Node card_page_data() {
  return {{"lang", "en"},
          {"head_title", "Payout"},
          {"refresh", ""},
          {"title", "Payout"},
          {"content", ""}};
}

TEST(Template, EscapesEveryValueInTextAndAttributes) {
  const Rendered text = render_checked("web/error", {{"error", kHostile}});
  EXPECT_TRUE(text.problems.empty());
  EXPECT_EQ(text.html, "<p class=\"status declined\" id=\"error\" role=\"alert\">" +
                           std::string(kHostileEscaped) + "</p>");

  const Rendered attribute = render_checked(
      "web/status", {{"message", "m"}, {"kind", "declined"}, {"status", "\"><b x='1'>"}});
  EXPECT_TRUE(attribute.problems.empty());
  EXPECT_TRUE(Contains(attribute.html, "data-status=\"&quot;&gt;&lt;b x=&#39;1&#39;&gt;\""));
}

TEST(Template, EscapesValuesOfListsAndOfIncludedTemplates) {
  Node entries = Node::list();
  entries.push({{"at", "2026-12-01 10:07:49"},
                {"login", kHostile},
                {"action", "login"},
                {"detail", ""},
                {"address", "127.0.0.1"}});
  const Node t{{"when", "When"},
               {"login", "Login"},
               {"action", "Action"},
               {"detail", "Detail"},
               {"address", "Address"}};
  const Rendered audit = render_checked("cabinet/audit", {{"t", t}, {"entries", entries}});
  EXPECT_TRUE(audit.problems.empty());
  EXPECT_TRUE(Contains(
      audit.html, "<td>" + std::string(kHostileEscaped) + "</td><td class=\"action\">login</td>"));

  Node head = card_page_data();
  head.set("head_title", kHostile).set("lang", "\"en");
  const Rendered page = render_checked("web/card_page", head);
  EXPECT_TRUE(page.problems.empty());
  EXPECT_TRUE(Contains(page.html, "<title>" + std::string(kHostileEscaped) + "</title>"));
  EXPECT_TRUE(Contains(page.html, "<html lang=\"&quot;en\">"));
  EXPECT_FALSE(Contains(page.html, "<script>"));
}

// {{{content}}} is for HTML another template rendered: it goes in as it is.
TEST(Template, TripleBracesInsertRenderedHtmlAsItIs) {
  const std::string inner = render("web/error", {{"error", kHostile}});
  Node data = card_page_data();
  data.set("content", inner);
  const Rendered page = render_checked("web/card_page", data);
  EXPECT_TRUE(page.problems.empty());
  EXPECT_TRUE(Contains(page.html, "<h1>Payout</h1>" + inner + "</main>"));
}

TEST(Template, ReportsEveryNameTheDataLacks) {
  const Rendered status = render_checked("web/status", {{"message", "Processing"}});
  EXPECT_EQ(status.problems, (std::vector<std::string>{"kind", "status"}));

  // Names of an included template, and names inside an object.
  const Node no_head_title{{"lang", "en"}, {"refresh", ""}, {"title", "Payout"}, {"content", ""}};
  EXPECT_EQ(render_checked("web/card_page", no_head_title).problems,
            (std::vector<std::string>{"head_title"}));
  const Rendered login = render_checked("cabinet/login", {{"t", Node{{"login_title", "Sign in"}}},
                                                          {"error", ""},
                                                          {"csrf", "c"},
                                                          {"lang_link", "?"},
                                                          {"other_language", "Русский"}});
  EXPECT_EQ(login.problems, (std::vector<std::string>{"t.login", "t.password", "t.sign_in"}));

  EXPECT_EQ(render_checked("web/no-such-page", {}).problems,
            (std::vector<std::string>{"no template web/no-such-page"}));
}

// What there is nothing to show is in the data all the same: false, an empty text or list.
TEST(Template, EmptyTextFalseAndEmptyListsHideSections) {
  const Rendered none = render_checked("web/error", {{"error", ""}});
  EXPECT_TRUE(none.problems.empty());
  EXPECT_EQ(none.html, "");

  const Rendered line =
      render_checked("web/status", {{"message", "Done"}, {"kind", ""}, {"status", ""}});
  EXPECT_TRUE(line.problems.empty());
  EXPECT_EQ(line.html, "<p class=\"status\" id=\"status\">Done</p>");

  const Rendered cards = render_checked("cabinet/notices", {{"notice", "Saved"}, {"error", false}});
  EXPECT_TRUE(cards.problems.empty());
  EXPECT_EQ(cards.html, "<p class=\"status success\" id=\"notice\" role=\"status\">Saved</p>");
}

// Templates are written one element per line; the page comes out as one line.
TEST(Template, LeavesOutLineBreaksAndIndentation) {
  const Rendered page = render_checked("web/card_page", card_page_data());
  EXPECT_TRUE(page.problems.empty());
  EXPECT_EQ(page.html.find('\n'), std::string::npos);
  EXPECT_EQ(
      page.html,
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\"><title>Payout</title>"
      "<link rel=\"stylesheet\" href=\"/static/payment.css\"><script src=\"/static/payment.js\" "
      "defer></script>"
      "</head><body><main class=\"card\"><h1>Payout</h1></main></body></html>");
}

TEST(Template, NodesHoldNumbersAndReplaceNamedValues) {
  Node n{{"a", 42}, {"b", std::int64_t{-7}}};
  n.set("a", "x");
  ASSERT_EQ(n.fields().size(), 2u);
  EXPECT_EQ(n.fields()[0].value.text(), "x");
  EXPECT_EQ(n.fields()[1].value.text(), "-7");
  EXPECT_EQ(Node(true).kind(), Node::Kind::kFlag);
}

TEST(Template, EveryEmbeddedTemplateCompilesAndIncludesOnlyTemplatesThatExist) {
  EXPECT_EQ(template_problems(), std::vector<std::string>{});
  const std::vector<std::string> names = template_names();
  for (const char* name : {"web/head", "web/card_page", "cabinet/layout", "cabinet/payouts",
                           "providers/bereke/form", "providers/ecommpay/card"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
}

}  // namespace
}  // namespace payoutd::web
