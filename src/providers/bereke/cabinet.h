#pragma once
// The Bereke partners' sections of the cabinet (seed 003, "Личный кабинет"), each route with the
// role it needs (cabinet/roles.h):
// GET  /cabinet/cards                              cards: "My cards": corporate cards, binding
//                                                  ids, balances; ?add=1 with "Adding a card" open
// POST /cabinet/cards/add, /cabinet/cards/confirm  cards: add one, confirmed by an SMS code
// POST /cabinet/cards/primary, /cabinet/cards/delete  cards
// GET  /cabinet/knp, POST /cabinet/knp             settings: the KNP the payouts carry
#include <string>
#include <string_view>
#include <vector>

#include "cabinet/section.h"
#include "core/throttle.h"
#include "engine/cards/card_payouts.h"
#include "providers/bereke/api.h"

namespace payoutd::providers::bereke {

// One payment purpose code of the National Bank of Kazakhstan's reference list.
struct KnpCode {
  std::string code, name;
};
// Reads data/knp.csv ("code,name_ru" after '#' comments); throws naming the line at fault.
std::vector<KnpCode> load_knp_table(const std::string& path);

struct CabinetOptions {
  bool sms = false;  // SMS codes can be sent (a gateway, or the sandbox's sink)
  std::vector<KnpCode> knp;
  // SMS codes of card enrolments: each one costs money and reaches a phone the user typed, so
  // each phone and each tenant may be sent only so many an hour (after a burst of as many).
  int sms_per_phone_per_hour = 3;
  int sms_per_tenant_per_hour = 30;
};

class CabinetSection final : public cabinet::Section {
 public:
  CabinetSection(engine::CardPayouts& cards, const Dialect& dialect, CabinetOptions options);

  bool serves(const Tenant& tenant) const override;
  std::vector<cabinet::NavEntry> nav(std::string_view lang) const override;
  std::vector<cabinet::Route> routes() override;

 private:
  using View = cabinet::View;
  using Params = web::FormParams;
  // What the cards page shows: a notice and an error, and at most one dialog open over the list
  // ("Adding a card", or the SMS code of `enrolment`), which then shows the error.
  struct CardsPage {
    std::string_view notice, error;
    bool adding = false;
    const engine::Enrolment* enrolment = nullptr;
  };
  void cards(View& v, const CardsPage& page, int status = 200);
  void cards_page(View& v);
  void add_card(View& v, const Params& form, const std::string& address);
  void confirm_card(View& v, const Params& form, const std::string& address);
  void make_primary(View& v, const Params& form, const std::string& address);
  void remove_card(View& v, const Params& form, const std::string& address);
  void card_action(View& v, const Params& form, const std::string& address, bool primary);
  void knp_page(View& v);
  void knp(View& v, std::string_view notice, int status = 200);
  void set_knp(View& v, const Params& form, const std::string& address);

  engine::CardPayouts& cards_;
  const Dialect& dialect_;
  CabinetOptions options_;
  RateLimit sms_per_phone_;
  RateLimit sms_per_tenant_;
};

}  // namespace payoutd::providers::bereke
