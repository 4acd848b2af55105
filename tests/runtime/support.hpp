// Test support: a running Runtime and a ScopedProcess for the test thread.
#pragma once

#include <otpp/process.hpp>
#include <otpp/runtime.hpp>
#include <otpp/scoped_process.hpp>

#include <catch2/catch.hpp>

#include <chrono>

namespace otpp::test {

using namespace std::chrono_literals;

// Generous: the suite must pass on a loaded 2-core machine. Timeouts only
// bound how long a failing test hangs; no assertion depends on speed.
inline constexpr Timeout patience = 10s;

struct RuntimeFixture {
    explicit RuntimeFixture(unsigned schedulers = 2)
        : runtime(RuntimeOptions{.schedulers = schedulers, .stack_canaries = true}) {}
    Runtime runtime;
    ScopedProcess me;

    Term expect_message() {
        auto m = receive(patience);
        REQUIRE(m.has_value());
        return *m;
    }
    template <class P>
    Term expect_message(P&& pattern) {
        auto m = receive(std::forward<P>(pattern), patience);
        REQUIRE(m.has_value());
        return *m;
    }
    void expect_no_message(Timeout wait = 50ms) { REQUIRE_FALSE(receive(wait).has_value()); }
};

// Waits (bounded) until `pid` is dead.
inline bool wait_dead(Pid pid, Timeout limit = patience) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (is_process_alive(pid)) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        sleep_for(1ms);
    }
    return true;
}

}  // namespace otpp::test
