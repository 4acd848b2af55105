#include "crash_report.hpp"

#include "../runtime/current.hpp"
#include "../runtime/process.hpp"

#include <spdlog/spdlog.h>

namespace otpp::behaviours {

namespace {
constexpr std::size_t kMaxTerm = 1000;  // a crash report must not flood the log
}

void log_crash(const CrashReport& r) {
    spdlog::error("crash report: {}{} running {} terminated{}{}: reason {}; last message {}",
                  Term(r.pid).to_string(), r.name ? " (" + std::string(r.name->name()) + ")" : std::string(),
                  r.module, r.callback.empty() ? "" : " in ", r.callback, r.reason.to_string(kMaxTerm),
                  r.last_message.to_string(kMaxTerm));
}

void log_unexpected_message(const Term& message) {
    runtime::Process* p = runtime::current_process();
    spdlog::warn("{} received an unexpected message (no handler): {}",
                 p ? Term(p->pid()).to_string() : std::string("?"), message.to_string(kMaxTerm));
}

}  // namespace otpp::behaviours
