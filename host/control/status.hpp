// A GenServer's status through its format_status callback, for `info`.
#pragma once

#include <otpp/process.hpp>
#include <otpp/term.hpp>

#include <optional>

namespace otpp::control {

// gen_server::get_status (OTP's sys:get_status): nullopt if `pid` is not a
// GenServer, is gone, or did not answer within `timeout`. In a process.
std::optional<Term> server_status(Pid pid, Timeout timeout);

}  // namespace otpp::control
