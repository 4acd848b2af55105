// The host's log level, changeable while it runs (the console's log-level).
//
// The log itself belongs to the host (spdlog, configured by otpp-host from its
// config file); this only moves its threshold. Thread-safe, never blocks.
#pragma once

#include <otpp/export.hpp>

#include <string>
#include <string_view>

namespace otpp::log {

// trace, debug, info, warn, error, critical or off; false (and no change) for
// anything else.
OTPP_API bool set_level(std::string_view level);
OTPP_API std::string level();

}  // namespace otpp::log
