// The stage changes of card orders and of corporate cards' enrolments, alone: pure functions of
// (record, event, time), with no store, no clock and no threads (engine/cards/transitions.h).
// card_engine_test.cc runs the same rules through the engine on both stores.
#include "engine/cards/transitions.h"

#include <gtest/gtest.h>

namespace payoutd::engine::transitions {
namespace {

using store::PayoutStatus;

constexpr std::int64_t kNow = 1'700'000'000'000;
constexpr std::int64_t kSessionMs = 20 * 60'000;  // longer than a code's life
constexpr std::int64_t kTransferId = 42;
const CardEngineOptions kOptions{};
const rails::Route kRoute{"rail-a", ""};
const rails::Route kRouteWithFallback{"rail-a", "rail-b"};

Currency kzt() { return *Currency::from_code("KZT"); }

// An order as submit builds it, before its first transition.
OrderState fresh_order() {
  OrderState s;
  s.payout.id = 7;
  s.payout.tenant = "bereke:test";
  s.payout.kind = store::PayoutKind::kCardPayout;
  s.payout.partner_id = "order-7";
  s.payout.status = PayoutStatus::kProcessing;
  s.payout.amount = 700;
  s.payout.currency = kzt();
  s.payout.created_ms = s.payout.updated_ms = kNow;
  s.order.order_id = "3f2c0b9e-0000-4000-8000-000000000007";
  s.order.client_id = "client-1";
  return s;
}

OrderState registered_order() {
  return open(fresh_order(), {.hosted = true, .session_timeout_ms = kSessionMs}, kNow).state;
}

CardFacts new_card() { return {"card-1", "411111XXXXXX1111", "VISA", "KZ", "IVAN PETROV"}; }

OrderState sending_order() {
  return reserved(fresh_order(), kTransferId, kRoute, kOptions.resend_after_ms, kNow).state;
}

// A registered order with a card attached and a code in force, whose MAC is "mac-1".
OrderState order_with_code() {
  CodeRequest ask{
      .card = CodeRequest::Card::kNew, .facts = new_card(), .code = "123456", .code_mac = "mac-1"};
  return ask_code(registered_order(), ask, kOptions, kNow).state;
}

rails::Answer approved(std::int64_t at_ms = 0) {
  return {rails::Outcome::kApproved, "123456789012", "00", "approved", at_ms};
}
rails::Answer declined() { return {rails::Outcome::kDeclined, {}, "05", "do not honour", 0}; }
rails::Answer unknown() { return {rails::Outcome::kUnknown, {}, {}, "timeout", 0}; }
rails::Answer processing() { return {rails::Outcome::kProcessing, {}, {}, "processing", 0}; }
rails::Answer not_found() { return {rails::Outcome::kNotFound, {}, {}, "no such credit", 0}; }
rails::Answer not_sent() { return {rails::Outcome::kNotSent, {}, "CB", "circuit open", 0}; }

// --- a new order, its reservation ---------------------------------------------------------------

TEST(CardTransitions, ADirectOrderIsReservedAtOnceAndAHostedOneWaitsForItsCard) {
  const Step direct = open(fresh_order(), {}, kNow);
  EXPECT_EQ(direct.move, Move::kReserve);
  EXPECT_EQ(direct.write, Write::kNothing);  // the reservation's step is what is stored
  EXPECT_EQ(direct.state.order.stage, OrderStage::kRegistered);

  const Step hosted = open(fresh_order(), {.hosted = true, .session_timeout_ms = kSessionMs}, kNow);
  EXPECT_EQ(hosted.move, Move::kNone);
  EXPECT_EQ(hosted.write, Write::kPayoutAndOrder);
  EXPECT_EQ(hosted.state.order.stage, OrderStage::kRegistered);
  EXPECT_EQ(hosted.state.order.expires_ms, kNow + kSessionMs);
  EXPECT_EQ(hosted.state.payout.due_ms, kNow + kSessionMs);  // the scheduler expires it then
  EXPECT_EQ(hosted.state.payout.status, PayoutStatus::kProcessing);
}

TEST(CardTransitions, AnOrderTheDialectRefusesIsDeclinedAtOnceWithItsCode) {
  const Step step = open(fresh_order(), {.refuse_code = "317", .hosted = true}, kNow + 5);
  EXPECT_EQ(step.move, Move::kNone);
  EXPECT_EQ(step.write, Write::kPayoutAndOrder);
  EXPECT_EQ(step.state.payout.status, PayoutStatus::kDeclined);
  EXPECT_EQ(step.state.payout.decline_code, "317");
  EXPECT_EQ(step.state.payout.updated_ms, kNow + 5);
  EXPECT_EQ(step.state.payout.due_ms, 0);
  EXPECT_EQ(step.state.order.stage, OrderStage::kFinal);
}

TEST(CardTransitions, AReservationSendsTheCreditAndSendsItAgainIfNoAnswerComes) {
  const Step step = reserved(fresh_order(), kTransferId, kRoute, 10'000, kNow + 3);
  EXPECT_EQ(step.write, Write::kPayoutAndOrder);
  EXPECT_EQ(step.state.order.stage, OrderStage::kSending);
  EXPECT_EQ(step.state.payout.pending_transfer_id, kTransferId);
  EXPECT_EQ(step.state.payout.due_ms, kNow + 3 + 10'000);
  EXPECT_EQ(step.state.payout.updated_ms, kNow + 3);
  EXPECT_EQ(step.state.payout.status, PayoutStatus::kProcessing);
}

TEST(CardTransitions, AReservationTheLedgerRefusesDeclinesForTheFundsOrTheAccountsLimit) {
  EXPECT_EQ(reservation_decline(ledger::TransferResult::kExceedsBalance),
            kDeclineInsufficientFunds);
  EXPECT_EQ(reservation_decline(ledger::TransferResult::kOverflow), kDeclineLimitExceeded);
  const Step step =
      decline(fresh_order(), reservation_decline(ledger::TransferResult::kExceedsBalance), kNow);
  EXPECT_EQ(step.state.payout.status, PayoutStatus::kDeclined);
  EXPECT_EQ(step.state.payout.decline_code, kDeclineInsufficientFunds);
  EXPECT_EQ(step.state.order.stage, OrderStage::kFinal);
  EXPECT_EQ(step.move, Move::kNone);  // nothing was reserved: nothing to void
}

TEST(CardTransitionsDeathTest, OnlyAnOrderWithoutAReservationIsReserved) {
  EXPECT_DEATH(reserved(sending_order(), kTransferId + 1, kRoute, 10'000, kNow),
               "only an open order without a reservation is reserved");
  EXPECT_DEATH(decline(decline(fresh_order(), "317", kNow).state, "318", kNow),
               "only an open payout is declined");
}

TEST(CardTransitions, PerCardLimitsCountOnlyTheCreditsOfTheWindow) {
  const CardLimits limits{.single_max = 1000, .total_max = 1500, .count_max = 2, .window_ms = 1000};
  Usage usage;
  EXPECT_EQ(count_credit(usage, limits, "big", 1001, kNow), kDeclineCardSingle);
  EXPECT_TRUE(usage.credits.empty());
  EXPECT_EQ(count_credit(usage, limits, "a", 800, kNow), "");
  EXPECT_EQ(count_credit(usage, limits, "b", 800, kNow + 1), kDeclineCardTotal);  // 1600 > 1500
  EXPECT_EQ(usage.credits.size(), 1u);  // a refused credit is not counted
  EXPECT_EQ(count_credit(usage, limits, "c", 100, kNow + 2), "");
  EXPECT_EQ(count_credit(usage, limits, "d", 100, kNow + 3), kDeclineCardCount);  // a third
  forget_credit(usage, "c");  // its credit was declined
  EXPECT_EQ(count_credit(usage, limits, "d", 100, kNow + 4), "");
  // A window later, "a" no longer counts, and is dropped from the usage kept.
  EXPECT_EQ(count_credit(usage, limits, "e", 700, kNow + 1000), "");
  ASSERT_EQ(usage.credits.size(), 2u);
  EXPECT_EQ(usage.credits[0].order_id, "d");
  EXPECT_EQ(usage.credits[1].order_id, "e");
  EXPECT_FALSE(counts_credits({.single_max = 1000}));
  EXPECT_TRUE(counts_credits({.count_max = 1}));
}

// --- the rail's answers -------------------------------------------------------------------------

TEST(CardTransitions, AnApprovedCreditPostsTheReservationAndEndsTheOrder) {
  const Step step = answer(sending_order(), approved(kNow + 500), false, kOptions, kNow + 700);
  EXPECT_EQ(step.refusal, OrderError::kNone);
  EXPECT_EQ(step.move, Move::kPost);
  EXPECT_EQ(step.write, Write::kPayoutAndOrder);
  EXPECT_EQ(step.state.payout.status, PayoutStatus::kSuccess);
  EXPECT_EQ(step.state.payout.due_ms, 0);
  EXPECT_EQ(step.state.payout.updated_ms, kNow + 700);
  EXPECT_EQ(step.state.order.stage, OrderStage::kFinal);
  EXPECT_EQ(step.state.order.approval, "123456789012");
  EXPECT_EQ(step.state.order.operation_ms, kNow + 500);  // when the network decided
  EXPECT_FALSE(step.rail_timeout);
}

TEST(CardTransitions, ADeclinedCreditVoidsTheReservationAndDeclinesTheOrder) {
  const Step step = answer(sending_order(), declined(), false, kOptions, kNow + 700);
  EXPECT_EQ(step.move, Move::kVoid);
  EXPECT_EQ(step.state.payout.status, PayoutStatus::kDeclined);
  EXPECT_EQ(step.state.payout.decline_code, kDeclineCardDeclined);
  EXPECT_EQ(step.state.order.rail_code, "05");
  EXPECT_EQ(step.state.order.operation_ms, kNow + 700);  // the rail gave no time: now
  EXPECT_EQ(step.state.order.stage, OrderStage::kFinal);
}

TEST(CardTransitions, AnUnknownOutcomeIsAskedAgainAfterABackoffThatDoublesUpToItsCeiling) {
  Step step = answer(sending_order(), unknown(), false, kOptions, kNow);
  EXPECT_TRUE(step.rail_timeout);  // the waiting request learns it
  EXPECT_EQ(step.move, Move::kNone);
  EXPECT_EQ(step.state.order.stage, OrderStage::kAwaiting);
  EXPECT_EQ(step.state.order.rail_state, "unknown");
  EXPECT_EQ(step.state.order.rail_checks, 0);
  EXPECT_EQ(step.state.payout.due_ms, kNow + 1000);
  EXPECT_EQ(step.state.payout.status, PayoutStatus::kProcessing);

  step = answer(step.state, processing(), true, kOptions, kNow + 1000);
  EXPECT_FALSE(step.rail_timeout);
  EXPECT_EQ(step.state.order.rail_checks, 1);
  EXPECT_EQ(step.state.order.rail_state, "processing");
  EXPECT_EQ(step.state.payout.due_ms, kNow + 1000 + 2000);

  step = answer(step.state, unknown(), true, kOptions, kNow + 3000);
  EXPECT_FALSE(step.rail_timeout);  // a status request that timed out is not the first answer
  EXPECT_EQ(step.state.order.rail_state, "processing");  // why it first waited stays
  EXPECT_EQ(step.state.payout.due_ms, kNow + 3000 + 4000);

  step = answer(step.state, approved(), true, kOptions, kNow + 7000);
  EXPECT_EQ(step.move, Move::kPost);
  EXPECT_EQ(step.state.order.rail_checks, 3);
  EXPECT_EQ(step.state.order.rail_state, "");

  EXPECT_EQ(backoff_ms(kOptions, 0), 1000);
  EXPECT_EQ(backoff_ms(kOptions, 5), 32'000);
  EXPECT_EQ(backoff_ms(kOptions, 6), 60'000);
  EXPECT_EQ(backoff_ms(kOptions, 40), 60'000);
}

TEST(CardTransitions, ACreditTheNetworkNeverReceivedIsSentAgainAtOnce) {
  const OrderState awaiting = answer(sending_order(), unknown(), false, kOptions, kNow).state;
  const Step step = answer(awaiting, not_found(), true, kOptions, kNow + 1000);
  EXPECT_EQ(step.move, Move::kNone);
  EXPECT_EQ(step.state.order.stage, OrderStage::kSending);
  EXPECT_TRUE(step.send);  // at once, counted
  EXPECT_EQ(step.state.order.rail_sends, 2);
  EXPECT_EQ(step.state.order.rail, "rail-a");  // no fallback: the same rail again
  EXPECT_EQ(step.state.payout.due_ms, kNow + 1000 + kOptions.resend_after_ms);
  EXPECT_EQ(step.state.payout.pending_transfer_id, kTransferId);  // the same reservation
}

// --- several rails: the route, re-sends counted, the fallback ----------------------------------

OrderState sending_with_fallback() {
  return reserved(fresh_order(), kTransferId, kRouteWithFallback, kOptions.resend_after_ms, kNow)
      .state;
}

TEST(CardTransitions, AReservationTakesItsRouteAndCountsItsFirstSend) {
  const Step step =
      reserved(fresh_order(), kTransferId, kRouteWithFallback, kOptions.resend_after_ms, kNow);
  EXPECT_TRUE(step.send);
  EXPECT_EQ(step.state.order.rail, "rail-a");
  EXPECT_EQ(step.state.order.rail_fallback, "rail-b");
  EXPECT_EQ(step.state.order.rail_sends, 1);
  EXPECT_TRUE(step.state.order.rail_attempts.empty());
}

TEST(CardTransitions, ARailThatCertainlyHasNotTheCreditHandsItToTheFallback) {
  Step step = answer(sending_with_fallback(), not_sent(), false, kOptions, kNow + 5);
  EXPECT_EQ(step.write, Write::kPayoutAndOrder);
  EXPECT_EQ(step.move, Move::kNone);
  EXPECT_TRUE(step.send);
  const CardOrder& o = step.state.order;
  EXPECT_EQ(o.rail, "rail-b");
  EXPECT_EQ(o.rail_fallback, "");  // used: one fallback per order
  EXPECT_EQ(o.stage, OrderStage::kSending);
  EXPECT_EQ(o.rail_sends, 1);
  EXPECT_EQ(o.rail_not_sent, 0);
  EXPECT_EQ(o.rail_state, "");
  ASSERT_EQ(o.rail_attempts.size(), 1U);
  EXPECT_EQ(o.rail_attempts[0],
            (RailAttempt{"rail-a", "not-sent", "CB", "circuit open", kNow + 5}));
  EXPECT_EQ(step.state.payout.pending_transfer_id, kTransferId);  // the same reservation
  EXPECT_EQ(step.state.payout.due_ms, kNow + 5 + kOptions.resend_after_ms);

  // On the fallback, kNotSent waits and goes again, as with one rail.
  step = answer(step.state, not_sent(), false, kOptions, kNow + 10);
  EXPECT_EQ(step.state.order.rail, "rail-b");
  EXPECT_EQ(step.state.order.rail_state, "not-sent");
  EXPECT_FALSE(step.send);

  // A status query that finds no credit under the reference is conclusive too.
  const OrderState awaiting =
      answer(sending_with_fallback(), unknown(), false, kOptions, kNow).state;
  step = answer(awaiting, not_found(), true, kOptions, kNow + 1000);
  EXPECT_TRUE(step.send);
  EXPECT_EQ(step.state.order.rail, "rail-b");
  EXPECT_EQ(step.state.order.stage, OrderStage::kSending);
  ASSERT_EQ(step.state.order.rail_attempts.size(), 1U);
  EXPECT_EQ(step.state.order.rail_attempts[0].result, "not-found");
}

TEST(CardTransitions, AnOrderStaysWithItsRailWhenASendMayHaveReachedIt) {
  // Unknown or processing: the outcome belongs to the first rail until it is final.
  for (const rails::Answer& a : {unknown(), processing()}) {
    const Step step = answer(sending_with_fallback(), a, false, kOptions, kNow);
    EXPECT_EQ(step.state.order.rail, "rail-a");
    EXPECT_EQ(step.state.order.rail_fallback, "rail-b");
    EXPECT_EQ(step.state.order.stage, OrderStage::kAwaiting);
    EXPECT_FALSE(step.send);
  }
  // A re-send (a restart, a lost answer) is counted before it leaves; a kNotSent to one of two
  // sends says nothing of the other, so the order waits and goes again to the same rail.
  Step resent = resend(sending_with_fallback(), kNow + 1);
  EXPECT_EQ(resent.write, Write::kOrder);
  EXPECT_TRUE(resent.send);
  EXPECT_EQ(resent.state.order.rail_sends, 2);
  Step step = answer(resent.state, not_sent(), false, kOptions, kNow + 2);
  EXPECT_EQ(step.state.order.rail, "rail-a");
  EXPECT_EQ(step.state.order.rail_state, "not-sent");
  EXPECT_EQ(step.state.order.rail_not_sent, 1);
  // Once every counted send was refused, the rail has nothing: the fallback may pay.
  step = answer(step.state, not_sent(), false, kOptions, kNow + 3);
  EXPECT_EQ(step.state.order.rail, "rail-b");
  EXPECT_TRUE(step.send);
  // An order stored before sends were counted never falls back.
  OrderState old = sending_with_fallback();
  old.order.rail_sends = 0;
  EXPECT_EQ(answer(old, not_sent(), false, kOptions, kNow).state.order.rail, "rail-a");
}

TEST(CardTransitions, OnlyASendingOrderDueToGoIsResent) {
  Step waiting = answer(sending_order(), not_sent(), false, kOptions, kNow);
  EXPECT_EQ(resend(waiting.state, kNow + 999).write, Write::kNothing);  // in its backoff
  EXPECT_FALSE(resend(waiting.state, kNow + 999).send);
  EXPECT_TRUE(resend(waiting.state, kNow + 1000).send);
  const OrderState awaiting = answer(sending_order(), unknown(), false, kOptions, kNow).state;
  EXPECT_EQ(resend(awaiting, kNow).write, Write::kNothing);  // asked about, never re-sent
  EXPECT_EQ(resend(registered_order(), kNow).write, Write::kNothing);
}

TEST(CardTransitions, ACreditNeverSentKeepsItsReservationAndGoesAgainAfterAGrowingBackoff) {
  Step step = answer(sending_order(), not_sent(), false, kOptions, kNow);
  EXPECT_EQ(step.refusal, OrderError::kNone);
  EXPECT_EQ(step.write, Write::kPayoutAndOrder);
  EXPECT_EQ(step.move, Move::kNone);  // never voided: no network said no
  EXPECT_FALSE(step.rail_timeout);    // nor an outcome unknown to the waiting request
  EXPECT_EQ(step.state.payout.status, PayoutStatus::kProcessing);
  EXPECT_EQ(step.state.payout.pending_transfer_id, kTransferId);
  EXPECT_EQ(step.state.order.stage, OrderStage::kSending);  // no status request: nothing was sent
  EXPECT_EQ(step.state.order.rail_state, "not-sent");
  EXPECT_EQ(step.state.order.rail_code, "CB");
  EXPECT_EQ(step.state.order.rail_text, "circuit open");
  EXPECT_EQ(step.state.order.rail_checks, 0);
  EXPECT_EQ(step.state.order.rail_not_sent, 1);
  EXPECT_EQ(step.state.payout.due_ms, kNow + 1000);
  EXPECT_EQ(step.state.payout.updated_ms, kNow);
  // Sent when due, not before.
  EXPECT_TRUE(waits_to_send(step.state, kNow + 999));
  EXPECT_FALSE(waits_to_send(step.state, kNow + 1000));

  // Each refused send doubles the wait, up to the status requests' ceiling.
  std::int64_t at = kNow + 1000;
  for (std::int64_t wait : {2000, 4000, 8000, 16'000, 32'000, 60'000, 60'000}) {
    step = answer(step.state, not_sent(), false, kOptions, at);
    EXPECT_EQ(step.state.payout.due_ms, at + wait);
    EXPECT_EQ(step.state.order.stage, OrderStage::kSending);
    EXPECT_EQ(step.state.payout.status, PayoutStatus::kProcessing);
    at += wait;
  }
  EXPECT_EQ(step.state.order.rail_not_sent, 8);

  // Once a send goes out, the order is with the rail as any other, and says so.
  const Step unknown_now = answer(step.state, unknown(), false, kOptions, at);
  EXPECT_EQ(unknown_now.state.order.stage, OrderStage::kAwaiting);
  EXPECT_EQ(unknown_now.state.order.rail_state, "unknown");
  EXPECT_EQ(unknown_now.state.order.rail_code, "");
  EXPECT_EQ(unknown_now.state.payout.due_ms, at + 1000);  // the status backoff starts afresh
  EXPECT_TRUE(unknown_now.rail_timeout);
  const Step paid = answer(step.state, approved(), false, kOptions, at);
  EXPECT_EQ(paid.move, Move::kPost);
  EXPECT_EQ(paid.state.order.rail_code, "00");
  EXPECT_EQ(paid.state.order.rail_state, "");
}

TEST(CardTransitions, OnlyASendTheOrderIsWaitingForIsRefusedNotSent) {
  // An order freshly reserved is sent at once (a restart resends it), not when due.
  EXPECT_FALSE(waits_to_send(sending_order(), kNow));
  // A status request that never left asks again after the status backoff; the order still
  // awaits the outcome of the credit that may have reached the network.
  const OrderState awaiting = answer(sending_order(), unknown(), false, kOptions, kNow).state;
  Step step = answer(awaiting, not_sent(), true, kOptions, kNow + 1000);
  EXPECT_EQ(step.write, Write::kPayoutAndOrder);
  EXPECT_EQ(step.state.order.stage, OrderStage::kAwaiting);
  EXPECT_EQ(step.state.order.rail_state, "unknown");
  EXPECT_EQ(step.state.order.rail_checks, 1);
  EXPECT_EQ(step.state.order.rail_not_sent, 0);
  EXPECT_EQ(step.state.payout.due_ms, kNow + 1000 + 2000);
  EXPECT_EQ(step.move, Move::kNone);
  // A send refused while the order awaits another send's outcome changes nothing.
  step = answer(awaiting, not_sent(), false, kOptions, kNow + 1000);
  EXPECT_EQ(step.refusal, OrderError::kNone);
  EXPECT_EQ(step.write, Write::kNothing);
  EXPECT_EQ(step.state.order.stage, OrderStage::kAwaiting);
  EXPECT_EQ(step.state.payout.due_ms, awaiting.payout.due_ms);
  // A final order is not with the rail.
  const OrderState done = answer(sending_order(), approved(), false, kOptions, kNow).state;
  EXPECT_EQ(answer(done, not_sent(), false, kOptions, kNow).refusal, OrderError::kNotOpen);
}

TEST(CardTransitions, AnAnswerForAnOrderNotWithTheRailIsRefused) {
  const OrderState done = answer(sending_order(), approved(), false, kOptions, kNow).state;
  for (const OrderState& s : {done, registered_order()}) {
    const Step step = answer(s, declined(), false, kOptions, kNow + 1);
    EXPECT_EQ(step.refusal, OrderError::kNotOpen);
    EXPECT_EQ(step.write, Write::kNothing);
    EXPECT_EQ(step.move, Move::kNone);
    EXPECT_EQ(step.state.payout.status, s.payout.status);
  }
}

// --- the hosted page ----------------------------------------------------------------------------

TEST(CardTransitions, AHostedOrderExpiresAtTheEndOfItsSessionAndNotBefore) {
  const Step early = expire(registered_order(), kNow + kSessionMs - 1);
  EXPECT_EQ(early.refusal, OrderError::kNone);
  EXPECT_EQ(early.write, Write::kNothing);
  const Step late = expire(registered_order(), kNow + kSessionMs);
  EXPECT_EQ(late.write, Write::kPayoutAndOrder);
  EXPECT_EQ(late.state.payout.status, PayoutStatus::kDeclined);
  EXPECT_EQ(late.state.payout.decline_code, kDeclineExpired);
  // An order that has its card is no longer the page's to expire.
  EXPECT_EQ(expire(sending_order(), kNow + kSessionMs).refusal, OrderError::kNotOpen);
}

TEST(CardTransitions, ThePagesCardIsTakenAndReservedWhileTheSessionLasts) {
  const Step step = confirm_card(registered_order(), new_card(), kNow + 10);
  EXPECT_EQ(step.move, Move::kReserve);
  EXPECT_TRUE(step.vault_card);
  EXPECT_EQ(step.state.order.card_id, "card-1");
  EXPECT_EQ(step.state.order.masked_pan, "411111XXXXXX1111");
  EXPECT_EQ(step.state.order.cardholder, "IVAN PETROV");

  const Step late = confirm_card(registered_order(), new_card(), kNow + kSessionMs);
  EXPECT_EQ(late.state.payout.decline_code, kDeclineExpired);
  EXPECT_EQ(late.move, Move::kNone);
  EXPECT_FALSE(late.vault_card);  // an expired order takes no card
  EXPECT_TRUE(late.state.order.card_id.empty());

  EXPECT_EQ(confirm_card(late.state, new_card(), kNow).refusal, OrderError::kNotOpen);
}

TEST(CardTransitions, ACodeIsSentForTheCardAttachedAndLivesNoLongerThanTheSession) {
  CodeRequest ask{.card = CodeRequest::Card::kNew,
                  .facts = new_card(),
                  .save = true,
                  .parties = R"({"recipient_country":"CA"})",
                  .code = "123456",
                  .code_mac = "mac-1"};
  const Step step = ask_code(registered_order(), ask, kOptions, kNow);
  EXPECT_EQ(step.refusal, OrderError::kNone);
  EXPECT_EQ(step.write, Write::kPayoutAndOrder);  // the dialect sends the code
  EXPECT_TRUE(step.vault_card);
  EXPECT_EQ(step.move, Move::kNone);  // nothing reserved before the code is entered
  const CardOrder& o = step.state.order;
  EXPECT_EQ(o.card_id, "card-1");
  EXPECT_TRUE(o.save_card);
  EXPECT_EQ(o.parties, R"({"recipient_country":"CA"})");
  EXPECT_EQ(o.code_hash, "mac-1");
  EXPECT_EQ(o.code_plain, "123456");  // for the notification only: the codec never stores it
  EXPECT_EQ(o.codes_sent, 1);
  EXPECT_EQ(o.code_attempts, 0);
  EXPECT_EQ(o.code_expires_ms, kNow + kOptions.code_lifetime_ms);

  // Near the session's end the code ends with it; a new code replaces the one in force.
  const std::int64_t late = kNow + kSessionMs - 1000;
  const Step again = ask_code(step.state, {.code = "654321", .code_mac = "mac-2"}, kOptions, late);
  EXPECT_EQ(again.state.order.code_expires_ms, kNow + kSessionMs);
  EXPECT_EQ(again.state.order.code_hash, "mac-2");
  EXPECT_EQ(again.state.order.codes_sent, 2);
  EXPECT_EQ(again.state.order.card_id, "card-1");
  EXPECT_FALSE(again.vault_card);
}

TEST(CardTransitions, ACardAttachedWithoutACodeWaitsForTheRestOfThePage) {
  CodeRequest ask{.card = CodeRequest::Card::kNew, .facts = new_card(), .send = false};
  const Step step = ask_code(order_with_code(), ask, kOptions, kNow);
  EXPECT_EQ(step.write, Write::kPayoutAndOrder);
  EXPECT_TRUE(step.state.order.code_hash.empty());  // the code in force is dropped
  EXPECT_EQ(step.state.order.codes_sent, 1);
  EXPECT_FALSE(step.state.order.save_card);
}

TEST(CardTransitions, ACodeRequestWithoutAnyCardIsRefused) {
  const Step step =
      ask_code(registered_order(), {.code = "123456", .code_mac = "mac-1"}, kOptions, kNow);
  EXPECT_EQ(step.refusal, OrderError::kNoCard);
  EXPECT_EQ(step.write, Write::kNothing);
  EXPECT_TRUE(step.state.order.code_hash.empty());
}

// The order's client's saved card.
Binding own_card(std::string masked) {
  return {.kind = BindingKind::kRecipient,
          .client_id = "client-1",
          .card_id = "card-9",
          .masked = std::move(masked)};
}

// What an event may name that is no saved card of the order's client: no binding, another
// client's card, a corporate card, a deleted card.
std::vector<std::optional<Binding>> not_the_clients_cards() {
  std::vector<std::optional<Binding>> cards{std::nullopt};
  for (int i = 0; i < 3; ++i) {
    Binding b = own_card("411111XXXXXX1111");
    if (i == 0) b.client_id = "client-2";
    if (i == 1) b.kind = BindingKind::kDebit;
    if (i == 2) b.deleted = true;
    cards.emplace_back(std::move(b));
  }
  return cards;
}

TEST(CardTransitions, ASavedCardMustBeARecipientCardOfTheOrdersClient) {
  const Binding own = own_card("555555XXXXXX4444");
  for (const std::optional<Binding>& saved : not_the_clients_cards()) {
    CodeRequest ask{
        .card = CodeRequest::Card::kSaved, .saved = {"b-9", saved}, .code_mac = "mac-1"};
    const Step step = ask_code(registered_order(), ask, kOptions, kNow);
    EXPECT_EQ(step.refusal, OrderError::kUnknownCard);
    EXPECT_EQ(step.write, Write::kNothing);
  }
  CodeRequest ask{.card = CodeRequest::Card::kSaved,
                  .saved = {"b-9", own, "MASTERCARD", "KZ"},
                  .code_mac = "mac-1"};
  const Step step = ask_code(registered_order(), ask, kOptions, kNow);
  EXPECT_EQ(step.refusal, OrderError::kNone);
  EXPECT_FALSE(step.vault_card);  // it is in the vault already
  EXPECT_EQ(step.state.order.card_id, "card-9");
  EXPECT_EQ(step.state.order.target_binding, "b-9");
  EXPECT_EQ(step.state.order.scheme, "MASTERCARD");
  EXPECT_TRUE(step.state.order.save_card);
}

TEST(CardTransitions, TheBankPagesSavedCardMustBeTheClientsAndIsPaidThroughItsBinding) {
  const Binding own = own_card("411111XXXXXX1111");
  for (const std::optional<Binding>& b : not_the_clients_cards()) {
    const Step step = confirm_saved(registered_order(), {"b-9", b}, "IVAN PETROV", kNow);
    EXPECT_EQ(step.refusal, OrderError::kUnknownCard);
    EXPECT_EQ(step.write, Write::kNothing);
    EXPECT_EQ(step.move, Move::kNone);  // nothing reserved
    EXPECT_TRUE(step.state.order.card_id.empty());
  }
  const Step step =
      confirm_saved(registered_order(), {"b-9", own, "VISA", "KZ"}, "IVAN PETROV", kNow);
  EXPECT_EQ(step.refusal, OrderError::kNone);
  EXPECT_EQ(step.move, Move::kReserve);
  EXPECT_FALSE(step.vault_card);  // it is in the vault already
  const CardOrder& o = step.state.order;
  EXPECT_EQ(o.card_id, "card-9");
  EXPECT_EQ(o.masked_pan, "411111XXXXXX1111");
  EXPECT_EQ(o.target_binding, "b-9");
  EXPECT_EQ(o.cardholder, "IVAN PETROV");
  EXPECT_EQ(o.country, "KZ");

  // A saved card chosen too late, or twice, pays nothing more.
  const Step late = confirm_saved(registered_order(), {"b-9", own}, "", kNow + kSessionMs);
  EXPECT_EQ(late.state.payout.decline_code, kDeclineExpired);
  EXPECT_EQ(late.move, Move::kNone);
  EXPECT_EQ(confirm_saved(sending_order(), {"b-9", own}, "", kNow).refusal, OrderError::kNotOpen);
}

TEST(CardTransitions, AnOrderSendsNoMoreCodesThanItMayButMayStillTakeACard) {
  OrderState s = order_with_code();
  s.order.codes_sent = kOptions.codes_max;
  const Step refused = ask_code(s, {.code_mac = "mac-9"}, kOptions, kNow);
  EXPECT_EQ(refused.refusal, OrderError::kTooManyCodes);
  EXPECT_EQ(refused.state.order.code_hash, "mac-1");  // the code in force stays
  const Step attached = ask_code(s, {.send = false}, kOptions, kNow);
  EXPECT_EQ(attached.refusal, OrderError::kNone);
}

TEST(CardTransitions, TheRightCodeConfirmsTheOrderWithItsCard) {
  const Step step = enter_code(order_with_code(), "mac-1", kOptions, kNow + 1);
  EXPECT_EQ(step.refusal, OrderError::kNone);
  EXPECT_EQ(step.move, Move::kReserve);
  EXPECT_FALSE(step.vault_card);                    // the card was kept when it was attached
  EXPECT_TRUE(step.state.order.code_hash.empty());  // a code confirms once
  EXPECT_EQ(step.state.order.card_id, "card-1");
}

TEST(CardTransitions, WrongCodesAreCountedAndTheLastAttemptDropsTheCode) {
  OrderState s = order_with_code();
  for (int attempt = 1; attempt <= kOptions.code_attempts_max; ++attempt) {
    const Step step = enter_code(s, "mac-x", kOptions, kNow + attempt);
    EXPECT_EQ(step.refusal, OrderError::kWrongCode);
    EXPECT_EQ(step.write, Write::kOrder);  // the count is kept; the dialect is not told
    EXPECT_EQ(step.move, Move::kNone);
    EXPECT_EQ(step.state.order.code_attempts, attempt);
    EXPECT_EQ(step.state.order.code_hash.empty(), attempt == kOptions.code_attempts_max);
    s = step.state;
  }
  // Even the right code is of no use now: a new one must be asked for.
  const Step after = enter_code(s, "mac-1", kOptions, kNow + 10);
  EXPECT_EQ(after.refusal, OrderError::kNoCode);
  EXPECT_EQ(after.write, Write::kNothing);
}

TEST(CardTransitions, AnExpiredCodeIsDroppedAndTheSessionsEndDeclinesTheOrder) {
  const std::int64_t code_end = kNow + kOptions.code_lifetime_ms;
  const Step expired = enter_code(order_with_code(), "mac-1", kOptions, code_end);
  EXPECT_EQ(expired.refusal, OrderError::kCodeExpired);
  EXPECT_EQ(expired.write, Write::kOrder);
  EXPECT_TRUE(expired.state.order.code_hash.empty());
  EXPECT_EQ(expired.state.payout.status, PayoutStatus::kProcessing);

  const Step over = enter_code(order_with_code(), "mac-1", kOptions, kNow + kSessionMs);
  EXPECT_EQ(over.refusal, OrderError::kNone);
  EXPECT_EQ(over.state.payout.decline_code, kDeclineExpired);
  EXPECT_EQ(over.move, Move::kNone);

  EXPECT_EQ(enter_code(registered_order(), "mac-1", kOptions, kNow).refusal, OrderError::kNoCode);
  EXPECT_EQ(enter_code(over.state, "mac-1", kOptions, kNow).refusal, OrderError::kNotOpen);
}

TEST(CardTransitions, ARefusalDeclinesARegisteredOrderOnceAndDropsItsCode) {
  const Step step = refuse(order_with_code(), "319", kNow + 1);
  EXPECT_EQ(step.write, Write::kPayoutAndOrder);
  EXPECT_EQ(step.state.payout.decline_code, "319");
  EXPECT_TRUE(step.state.order.code_hash.empty());
  EXPECT_EQ(refuse(step.state, "319", kNow + 2).refusal, OrderError::kNotOpen);
  EXPECT_EQ(refuse(sending_order(), "319", kNow).refusal, OrderError::kNotOpen);
  EXPECT_EQ(refuse(registered_order(), "319", kNow + kSessionMs).state.payout.decline_code,
            kDeclineExpired);
}

TEST(CardTransitions, ADescriptionIsKeptByARegisteredOrderAndWrittenOnlyWhenNew) {
  const Step step = describe(order_with_code(), "Prize", kNow + 1);
  EXPECT_EQ(step.refusal, OrderError::kNone);
  EXPECT_EQ(step.write, Write::kOrder);  // the dialect is told nothing
  EXPECT_EQ(step.state.order.description, "Prize");
  EXPECT_EQ(step.state.order.code_hash, "mac-1");  // the code in force stays
  EXPECT_EQ(describe(step.state, "Prize", kNow + 2).write, Write::kNothing);
  EXPECT_EQ(describe(step.state, "Other", kNow + 2).state.order.description, "Other");
  EXPECT_EQ(describe(sending_order(), "Prize", kNow).refusal, OrderError::kNotOpen);
  const Step over = describe(registered_order(), "Prize", kNow + kSessionMs);
  EXPECT_EQ(over.state.payout.decline_code, kDeclineExpired);
  EXPECT_EQ(over.state.order.description, "");
}

// --- enrolment of a corporate card --------------------------------------------------------------

Enrolment code_sent() {
  return start_enrolment("e-1", new_card(), "12/39", "+77011234567", "mac-1", kNow);
}

TEST(CardTransitions, AnEnrolmentWaitsForItsCodeForFiveMinutes) {
  const Enrolment e = code_sent();
  EXPECT_EQ(e.state, EnrolmentState::kCodeSent);
  EXPECT_EQ(e.card_id, "card-1");
  EXPECT_EQ(e.holder, "IVAN PETROV");
  EXPECT_EQ(e.code_expires_ms, kNow + 5 * 60'000);
  const EnrolmentStep right = enter_enrolment_code(e, "mac-1", kNow + 5 * 60'000 - 1);
  EXPECT_EQ(right.refusal, EnrolmentError::kNone);
  EXPECT_TRUE(right.write);
  EXPECT_EQ(right.enrolment.state, EnrolmentState::kVerifying);
  EXPECT_TRUE(right.enrolment.code_hash.empty());
  const EnrolmentStep late = enter_enrolment_code(e, "mac-1", kNow + 5 * 60'000);
  EXPECT_EQ(late.refusal, EnrolmentError::kCodeExpired);
  EXPECT_EQ(late.enrolment.state, EnrolmentState::kDeclined);
  EXPECT_EQ(late.enrolment.reason, "code-expired");
  EXPECT_EQ(enter_enrolment_code(late.enrolment, "mac-1", kNow).refusal, EnrolmentError::kNotOpen);
}

TEST(CardTransitions, AnEnrolmentTakesThreeWrongCodesAndIsThenDeclined) {
  EnrolmentStep step{code_sent()};
  for (int attempt = 1; attempt <= 3; ++attempt) {
    step = enter_enrolment_code(step.enrolment, "mac-x", kNow + attempt);
    EXPECT_EQ(step.refusal, EnrolmentError::kWrongCode);
    EXPECT_TRUE(step.write);
    EXPECT_EQ(step.enrolment.attempts, attempt);
    EXPECT_EQ(step.enrolment.state,
              attempt < 3 ? EnrolmentState::kCodeSent : EnrolmentState::kDeclined);
  }
  EXPECT_EQ(step.enrolment.reason, "wrong-code");
  const EnrolmentStep after = enter_enrolment_code(step.enrolment, "mac-1", kNow + 4);
  EXPECT_EQ(after.refusal, EnrolmentError::kNotOpen);
  EXPECT_FALSE(after.write);
}

TEST(CardTransitions, TheRailsVerificationBindsOrDeclinesTheCardOnce) {
  const Enrolment verifying = enter_enrolment_code(code_sent(), "mac-1", kNow).enrolment;
  const EnrolmentStep bound = verified(verifying, approved(), "b-1");
  EXPECT_TRUE(bound.write);
  EXPECT_EQ(bound.enrolment.state, EnrolmentState::kBound);
  EXPECT_EQ(bound.enrolment.binding_id, "b-1");
  EXPECT_EQ(verified(verifying, declined(), "b-2").enrolment.reason, "declined 05");
  EXPECT_EQ(verified(verifying, unknown(), "b-3").enrolment.reason, "no-answer");
  // A second answer (a retry) does not undo the first.
  const EnrolmentStep again = verified(bound.enrolment, declined(), "b-4");
  EXPECT_FALSE(again.write);
  EXPECT_EQ(again.enrolment.state, EnrolmentState::kBound);
  EXPECT_EQ(again.enrolment.binding_id, "b-1");
  EXPECT_FALSE(verified(code_sent(), approved(), "b-5").write);  // no code entered yet
}

}  // namespace
}  // namespace payoutd::engine::transitions
