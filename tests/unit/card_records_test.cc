// The card engine's records as stored (engine/cards/records.h): one field list writes and reads
// each, and the bytes are the ones earlier releases wrote (the expected texts below are what the
// release before the field lists stored), so stored records of every release keep reading.
#include "engine/cards/records.h"

#include <gtest/gtest.h>

namespace payoutd::engine {
namespace {

CardOrder full_order() {
  CardOrder o;
  o.order_id = "0b7e1c2a-1111-4222-8333-444455556666";
  o.stage = OrderStage::kAwaiting;
  o.card_id = "card-1";
  o.masked_pan = "411111XXXXXX1111";
  o.scheme = "VISA";
  o.country = "KZ";
  o.cardholder = "IVAN PETROV";
  o.client_id = "client-1";
  o.email = "a@b.kz";
  o.phone = "+77011234567";
  o.name = "Ivan";
  o.source_binding = "src-b";
  o.target_binding = "tgt-b";
  o.description = "Payout \"1\"";
  o.language = "ru";
  o.return_url = "https://r";
  o.fail_url = "https://f";
  o.params_json = "{\"a\":1}";
  o.knp = "119";
  o.parties = "{\"recipient_country\":\"CA\"}";
  o.callback_url = "https://cb";
  o.client_ip = "10.0.0.1";
  o.code_hash = "abcdef";
  o.code_expires_ms = 1700000300000;
  o.code_attempts = 2;
  o.codes_sent = 3;
  o.save_card = false;
  o.fee = 15;
  o.expires_ms = 1700001200000;
  o.rail_state = "unknown";
  o.approval = "123456789012";
  o.rail_code = "00";
  o.rail_text = "approved";
  o.operation_ms = 1700000100000;
  o.rail_checks = 4;
  return o;
}

constexpr std::string_view kFullOrder =
    R"({"order_id":"0b7e1c2a-1111-4222-8333-444455556666","stage":2,"card_id":"card-1",)"
    R"("masked_pan":"411111XXXXXX1111","scheme":"VISA","country":"KZ","cardholder":"IVAN PETROV",)"
    R"("client_id":"client-1","email":"a@b.kz","phone":"+77011234567","name":"Ivan",)"
    R"("source_binding":"src-b","target_binding":"tgt-b","description":"Payout \"1\"",)"
    R"("language":"ru","return_url":"https://r","fail_url":"https://f","knp":"119",)"
    R"("rail_state":"unknown","approval":"123456789012","rail_code":"00","rail_text":"approved",)"
    R"("callback_url":"https://cb","client_ip":"10.0.0.1","params":"{\"a\":1}",)"
    R"("parties":"{\"recipient_country\":\"CA\"}","fee":15,"expires_ms":1700001200000,)"
    R"("operation_ms":1700000100000,"rail_checks":4,"code_hash":"abcdef","no_save":1,)"
    R"("code_expires_ms":1700000300000,"code_attempts":2,"codes_sent":3})";

TEST(CardRecords, AnOrderIsStoredAsEarlierReleasesStoredIt) {
  EXPECT_EQ(order_to_json(full_order()), kFullOrder);
  EXPECT_EQ(order_to_json(CardOrder{}),
            R"({"order_id":"","stage":0,"fee":0,"expires_ms":0,"operation_ms":0,"rail_checks":0,)"
            R"("code_expires_ms":0,"code_attempts":0,"codes_sent":0})");
}

TEST(CardRecords, AnOrderReadsBackFieldForFieldButItsClearCode) {
  CardOrder o = full_order();
  o.code_plain = "123456";  // only ever in the batch that made it
  const std::optional<CardOrder> back = order_from_json(order_to_json(o));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->code_plain.empty());
  // Stored before rails had names, an order with the network went to the sandbox's.
  EXPECT_EQ(back->rail, "sandbox");
  CardOrder unnamed = *back;
  unnamed.rail.clear();
  EXPECT_EQ(order_to_json(unnamed), kFullOrder);
  EXPECT_FALSE(back->save_card);
  EXPECT_EQ(back->stage, OrderStage::kAwaiting);
  EXPECT_EQ(back->params_json, "{\"a\":1}");
  EXPECT_TRUE(order_from_json(R"({"order_id":"x"})")->save_card);  // no "no_save": saves cards
}

TEST(CardRecords, AMissingOrMistypedFieldReadsEmptyAndADamagedRecordNotAtAll) {
  const std::optional<CardOrder> o = order_from_json(R"({"order_id":7,"fee":"15","stage":1})");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->order_id, "");
  EXPECT_EQ(o->fee, 0);
  EXPECT_EQ(o->stage, OrderStage::kSending);
  EXPECT_FALSE(order_from_json("{\"order_id\":"));
  EXPECT_FALSE(order_from_json("[]"));
}

// The description a hosted page gives an order (ecommpay's payment_description) reads back byte for
// byte, HTML and all (the pages escape it when they show it); an order stored without one, as
// every ecommpay order before it was kept, reads as having none.
TEST(CardRecords, AnOrdersDescriptionReadsBackAndAnOrderWithoutOneHasNone) {
  CardOrder o;
  o.order_id = "0b7e1c2a-1111-4222-8333-444455556666";
  o.description = "Приз <b>\"№1\"</b> & co";
  const std::optional<CardOrder> back = order_from_json(order_to_json(o));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->description, o.description);
  const std::optional<CardOrder> older = order_from_json(
      R"({"order_id":"0b7e1c2a-1111-4222-8333-444455556666","stage":0,"client_id":"16061314",)"
      R"("email":"p.jeltz@mail.com","callback_url":"https://cb","fee":0,"expires_ms":1,)"
      R"("operation_ms":0,"rail_checks":0,"no_save":1,"code_expires_ms":0,"code_attempts":0,)"
      R"("codes_sent":0})");
  ASSERT_TRUE(older);
  EXPECT_EQ(older->description, "");
  EXPECT_EQ(older->email, "p.jeltz@mail.com");
  EXPECT_EQ(order_to_json(*older).find("description"), std::string::npos);
}

// The count of sends the rail refused (kNotSent) is kept once there is one; an order without
// one is stored as earlier releases stored it.
TEST(CardRecords, AnOrdersRefusedSendsReadBackAndNoneAreLeftOut) {
  CardOrder o = full_order();
  o.rail_not_sent = 3;
  const std::string json = order_to_json(o);
  EXPECT_NE(json.find(R"("rail_checks":4,"rail_not_sent":3,)"), std::string::npos) << json;
  const std::optional<CardOrder> back = order_from_json(json);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->rail_not_sent, 3);
  EXPECT_EQ(order_from_json(kFullOrder)->rail_not_sent, 0);
}

// The order's program is kept by name when a person sends to a person; a disbursement (what
// every order stored before programs were recorded was) is left out, so its record is the one
// earlier releases wrote, and such a record reads as a disbursement. An unknown name is damage.
TEST(CardRecords, AnOrdersProgramReadsBackAndOlderOrdersAreDisbursements) {
  CardOrder o = full_order();
  o.program = rails::Program::kPersonToPerson;
  const std::string json = order_to_json(o);
  EXPECT_NE(
      json.find(R"("parties":"{\"recipient_country\":\"CA\"}","program":"person-to-person",)"),
      std::string::npos)
      << json;
  const std::optional<CardOrder> back = order_from_json(json);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->program, rails::Program::kPersonToPerson);
  EXPECT_EQ(order_to_json(full_order()), kFullOrder);  // a disbursement: no "program"
  EXPECT_EQ(order_from_json(kFullOrder)->program, rails::Program::kDisbursement);
  EXPECT_EQ(order_from_json(R"({"order_id":"x","program":"disbursement"})")->program,
            rails::Program::kDisbursement);
  EXPECT_FALSE(order_from_json(R"({"order_id":"x","program":"b2b"})"));
}

// The order's rail, its fallback, its counted sends and the rails it left read back; a registered
// order stored before rails had names has no rail yet (it is chosen when it is reserved).
TEST(CardRecords, AnOrdersRailsReadBack) {
  CardOrder o = full_order();
  o.rail = "visa-direct";
  o.rail_fallback = "sandbox";
  o.rail_sends = 2;
  o.rail_attempts = {{"mastercard-send", "not-sent", "CB", "circuit \"open\"", 1700000000001},
                     {"bereke-up", "not-found", "", "", 1700000000002}};
  const std::string json = order_to_json(o);
  EXPECT_NE(json.find(R"("rail":"visa-direct","rail_fallback":"sandbox","rail_sends":2,)"),
            std::string::npos)
      << json;
  const std::optional<CardOrder> back = order_from_json(json);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->rail, "visa-direct");
  EXPECT_EQ(back->rail_fallback, "sandbox");
  EXPECT_EQ(back->rail_sends, 2);
  EXPECT_EQ(back->rail_attempts, o.rail_attempts);
  EXPECT_EQ(order_to_json(*back), json);
  EXPECT_EQ(order_from_json(R"({"order_id":"x","stage":0})")->rail, "");
  EXPECT_EQ(order_from_json(R"({"order_id":"x","stage":3,"operation_ms":5})")->rail, "sandbox");
  // An attempt of another shape is a damaged record, not a guess.
  EXPECT_FALSE(order_from_json(R"({"order_id":"x","rail_attempts":[["a","not-sent"]]})"));
  EXPECT_FALSE(order_from_json(R"({"order_id":"x","rail_attempts":[[1,2,3,4,5]]})"));
}

TEST(CardRecords, BindingsKeepTheirKindAsItsName) {
  Binding debit{.kind = BindingKind::kDebit,
                .card_id = "card-1",
                .masked = "411111XXXXXX1111",
                .holder = "IVAN PETROV",
                .expiry = "12/39",
                .deleted = true,
                .created_ms = 1700000000000};
  const std::string stored = binding_to_json(debit);
  EXPECT_EQ(stored,
            R"({"type":"debit","client_id":"","card_id":"card-1","masked":"411111XXXXXX1111",)"
            R"("holder":"IVAN PETROV","expiry":"12/39","deleted":1,"created_ms":1700000000000})");
  const auto back = binding_from_json(stored);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, BindingKind::kDebit);
  EXPECT_TRUE(back->deleted);
  EXPECT_FALSE(back->debit_tool());  // deleted: it funds nothing

  Binding recipient{.client_id = "client-1",
                    .card_id = "card-2",
                    .masked = "555555XXXXXX4444",
                    .created_ms = 1700000000000};
  EXPECT_EQ(binding_to_json(recipient),
            R"({"type":"recipient","client_id":"client-1","card_id":"card-2",)"
            R"("masked":"555555XXXXXX4444","created_ms":1700000000000})");
  EXPECT_EQ(binding_from_json(binding_to_json(recipient))->kind, BindingKind::kRecipient);
  EXPECT_FALSE(binding_from_json(R"({"type":"credit","card_id":"card-2"})"));  // unknown kind
}

TEST(CardRecords, EnrolmentsKeepTheirStateAsItsName) {
  Enrolment e;
  e.id = "e-1";
  e.state = EnrolmentState::kCodeSent;
  e.card_id = "card-1";
  e.masked_pan = "411111XXXXXX1111";
  e.holder = "IVAN PETROV";
  e.expiry = "12/39";
  e.phone = "+77011234567";
  e.code_hash = "abcdef";
  e.code_expires_ms = 1700000300000;
  e.created_ms = 1700000000000;
  e.attempts = 1;
  const std::string stored = enrolment_to_json(e);
  EXPECT_EQ(stored,
            R"({"state":"code-sent","card_id":"card-1","masked":"411111XXXXXX1111",)"
            R"("holder":"IVAN PETROV","expiry":"12/39","phone":"+77011234567","binding_id":"",)"
            R"("reason":"","code_hash":"abcdef","code_expires_ms":1700000300000,)"
            R"("created_ms":1700000000000,"attempts":1})");
  for (const auto& [state, name] : {std::pair{EnrolmentState::kCodeSent, "code-sent"},
                                    std::pair{EnrolmentState::kVerifying, "verifying"},
                                    std::pair{EnrolmentState::kBound, "bound"},
                                    std::pair{EnrolmentState::kDeclined, "declined"}}) {
    e.state = state;
    const std::string text = enrolment_to_json(e);
    EXPECT_NE(text.find(std::string("\"state\":\"") + name + "\""), std::string::npos);
    const auto back = enrolment_from_json("e-1", text);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->state, state);
    EXPECT_EQ(back->id, "e-1");  // its key
    EXPECT_EQ(back->attempts, 1);
  }
  EXPECT_FALSE(enrolment_from_json("e-1", R"({"state":"pending"})"));
}

TEST(CardRecords, AVaultedCardAndItsUsageAreStoredAsBefore) {
  const VaultedCard card{"c1ph3r", "411111XXXXXX1111", "VISA", "KZ", 1700000000000};
  EXPECT_EQ(vaulted_card_to_json(card),
            R"({"sealed":"c1ph3r","masked":"411111XXXXXX1111","scheme":"VISA","country":"KZ",)"
            R"("created_ms":1700000000000})");
  EXPECT_EQ(vaulted_card_from_json(vaulted_card_to_json(card))->sealed, "c1ph3r");

  const Usage usage{{{"o1", 1700000000000, 800}, {"o2", 1700000000001, 100}}};
  EXPECT_EQ(usage_to_json(usage), R"([["o1",1700000000000,800],["o2",1700000000001,100]])");
  const Usage back =
      usage_from_json(R"([["o1",1700000000000,800],[1,2,3],["o2",1,2,3],["o3",5,6]])");
  ASSERT_EQ(back.credits.size(), 2u);  // entries of another shape are skipped
  EXPECT_EQ(back.credits[1].order_id, "o3");
  EXPECT_EQ(back.credits[1].amount, 6);
  EXPECT_TRUE(usage_from_json("{}").credits.empty());
}

}  // namespace
}  // namespace payoutd::engine
