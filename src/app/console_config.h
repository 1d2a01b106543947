#pragma once
// [[admin.staff]] and [console]: the staff the config bootstraps and the console's sign-in
// (docs/console.md). Throws std::runtime_error naming the key, as load_config does.
#include <toml++/toml.h>

#include "console/console.h"

namespace payoutd::app {

// Reads them into `options`; `sandbox`: the config's sandbox flag (outside it, the sandbox's
// published passwords open nothing); `throttle`: [throttle], already read.
void load_console(const toml::table& root, bool sandbox, const ThrottleOptions& throttle,
                  console::Options& options);

}  // namespace payoutd::app
