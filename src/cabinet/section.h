#pragma once
// A section of the cabinet that a provider adds for its own tenants (the Bereke partners' "My
// cards" and "KNP value"): its pages in the navigation, its GET pages and its POST forms. The
// cabinet does the rest before it asks a section: the session (signed in, not expired), the
// language, and for a POST the origin and the session's CSRF token.
#include <string>
#include <string_view>
#include <vector>

#include "cabinet/view.h"
#include "core/tenant.h"
#include "web/forms.h"

namespace payoutd::cabinet {

class Section {
 public:
  virtual ~Section() = default;
  // Whether sessions of `tenant` have this section (a provider's section serves its tenants).
  virtual bool serves(const Tenant& tenant) const = 0;
  // Its pages in the navigation, labelled in `lang` ("ru" or "en").
  virtual std::vector<NavEntry> nav(std::string_view lang) const = 0;
  // Answers a GET of one of its pages through `v`; false when `path` is not one of them.
  virtual bool get(View& v, std::string_view path) = 0;
  // Answers a POST of one of its forms from `address`; false when `path` is not one of them.
  virtual bool post(View& v, std::string_view path, const web::FormParams& form,
                    const std::string& address) = 0;
};

}  // namespace payoutd::cabinet
