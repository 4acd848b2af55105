// A runtime whose watchdog never replaces a stuck scheduler thread: whatever
// keeps other processes served while plugin code spins must then be the
// compiler-inserted preemption, not the safety net.
#pragma once

#include "../runtime/support.hpp"
#include "../../host/code/module_table.hpp"
#include "../../host/runtime/kernel.hpp"

#include <otpp/gen_server.hpp>
#include <otpp/process.hpp>
#include <otpp/runtime.hpp>
#include <otpp/scoped_process.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>

namespace otpp::test {


struct NoWatchdogFixture {
    explicit NoWatchdogFixture(unsigned schedulers)
        : runtime(RuntimeOptions{.schedulers = schedulers, .max_replacement_threads = 0}) {}
    Runtime runtime;
    ScopedProcess me;

    void load(const std::filesystem::path& plugin) { runtime.kernel().modules().load(plugin); }

    template <class P>
    Term expect_message(P&& pattern) {
        auto m = receive(std::forward<P>(pattern), patience);
        REQUIRE(m.has_value());
        return *m;
    }

    // The process whose reductions grow fastest: what an operator looks for
    // (Runtime::processes + process_info) to find a spinner.
    Pid busiest_process() {
        auto reductions = [&] {
            std::vector<std::pair<Pid, uint64_t>> out;
            for (Pid p : runtime.processes())
                if (auto info = runtime.process_info(p)) out.emplace_back(p, info->reductions);
            return out;
        };
        auto before = reductions();
        auto deadline = std::chrono::steady_clock::now() + patience;
        for (;;) {
            sleep_for(20ms);
            Pid best;
            uint64_t most = 0;
            for (auto& [pid, count] : reductions()) {
                auto old = std::find_if(before.begin(), before.end(), [&](auto& b) { return b.first == pid; });
                uint64_t grew = count - (old == before.end() ? 0 : old->second);
                if (grew > most) most = grew, best = pid;
            }
            // A slice of plain plugin code is thousands of reductions; a
            // process that waits uses a handful per message.
            if (most >= 10000) return best;
            REQUIRE(std::chrono::steady_clock::now() < deadline);
        }
    }
};

}  // namespace otpp::test

namespace otpp::test {

struct OneScheduler : NoWatchdogFixture {
    OneScheduler() : NoWatchdogFixture(1) {}
};
struct TwoSchedulers : NoWatchdogFixture {
    TwoSchedulers() : NoWatchdogFixture(2) {}
};
}  // namespace otpp::test
