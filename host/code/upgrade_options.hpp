// Upgrade options as a term: what the console sends and what a node ships to
// another with a plugin (code_agent.hpp). #{mode => atomic | rolling,
// extra => Term, dry_run => bool, timeout => Ms (1..3600000),
// unpurgeable => bool, batch => N (1..1000000)}; every key optional.
#pragma once

#include "upgrade.hpp"

#include <otpp/term.hpp>

namespace otpp::code {

// Throws BadArg naming the offending key and what it expects.
OTPP_API UpgradeOptions upgrade_options_from_term(const Term& options);
OTPP_API Term upgrade_options_to_term(const UpgradeOptions& options);

}  // namespace otpp::code
