#pragma once
// Adding a corporate card (the cabinet's "My cards"): a one-time code goes by SMS to the card's
// phone; the right code has the rail verify the card (a minimal debit, returned at once); an
// approved card becomes a debit binding with its own funding account (corporate_cards.h).
#include <cstdint>
#include <functional>
#include <string>

namespace payoutd::engine {

// Stored as its name ("code-sent", "verifying", "bound", "declined"; records.h).
enum class EnrolmentState : std::uint8_t {
  kCodeSent,   // waits for the SMS's code
  kVerifying,  // the code was right: the rail checks the card
  kBound,      // final: the card is a corporate card of the tenant (binding_id)
  kDeclined,   // final: the code or the rail refused it (reason)
};

struct Enrolment {
  std::string id;
  EnrolmentState state = EnrolmentState::kCodeSent;
  std::string card_id, masked_pan, holder, expiry, phone;
  std::string binding_id;  // bound: the new card's
  // declined: why ("code-expired", "wrong-code", "declined <the network's code>", "no-answer")
  std::string reason;
  std::string code_hash;  // Vault::code_mac of the SMS's code
  std::int64_t code_expires_ms = 0, created_ms = 0;
  int attempts = 0;
};

// What an enrolment command did (EnrolmentResult::error).
enum class EnrolmentError : std::uint8_t {
  kNone,
  kAlreadyAdded,  // enrol: the card is one of the tenant's corporate cards already
  kNotFound,      // confirm_enrolment: no such enrolment
  kNotOpen,       // confirm_enrolment: it waits for no code (decided, or being verified)
  kCodeExpired,   // confirm_enrolment: the code's life is over; the enrolment is declined
  kWrongCode,     // confirm_enrolment: counted; the last attempt declines the enrolment
  kUnavailable,   // overloaded, or a storage failure: retry
};

struct EnrolmentResult {
  EnrolmentError error = EnrolmentError::kNone;
  // As it stands after the command (kNone, kCodeExpired, kWrongCode, kNotOpen).
  Enrolment enrolment;
};
using EnrolmentCallback = std::function<void(EnrolmentResult)>;

}  // namespace payoutd::engine
