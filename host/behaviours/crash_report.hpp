// Crash reports and other behaviour log events (OTP's logger reports).
//
// Formatting and I/O happen on spdlog's logger; with the host's async logger
// the caller only pays for building the message, so a crashing server or a
// restarting supervisor never waits on a disk.
#pragma once

#include <otpp/term.hpp>

#include <optional>
#include <string>

namespace otpp::behaviours {

struct CrashReport {
    Pid pid;
    std::optional<Atom> name;
    std::string module;    // "counter@1.0.0"
    std::string callback;  // where it failed ("handle_call"), "" if it stopped itself
    Term reason;
    Term last_message;
};

void log_crash(const CrashReport& report);
void log_unexpected_message(const Term& message);

}  // namespace otpp::behaviours
