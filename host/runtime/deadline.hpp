// Turning an SDK timeout (milliseconds, or otpp::infinity) into the steady-clock
// deadline the runtime waits on; infinity maps to time_point::max() rather than
// overflowing now() + max.
#pragma once

#include <otpp/error.hpp>
#include <otpp/process.hpp>

#include <chrono>

namespace otpp::runtime {

inline std::chrono::steady_clock::time_point deadline_after(Timeout timeout) {
    if (timeout == infinity) return std::chrono::steady_clock::time_point::max();
    if (timeout.count() < 0) throw BadArg("negative timeout");
    return std::chrono::steady_clock::now() + timeout;
}

}  // namespace otpp::runtime
