// Support for the code-server tests: a runtime, the counter plugin's files,
// and a few ways to look at servers from outside.
#pragma once

#include "../runtime/support.hpp"
#include "../../host/code/module_table.hpp"
#include "../../host/code/upgrade.hpp"
#include "../../host/runtime/current.hpp"
#include "../../host/runtime/kernel.hpp"
#include "../../host/runtime/process.hpp"
#include "counter_files.hpp"

#include <otpp/gen_server.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace otpp::test {

inline const Atom counter("counter");

struct CodeFixture : RuntimeFixture {
    code::ModuleTable& modules = runtime.kernel().modules();

    std::vector<Pid> start_counters(int n, int first_value = 0) {
        std::vector<Pid> pids;
        for (int i = 0; i < n; ++i) {
            auto r = gen_server::start(counter, first_value + i);
            REQUIRE(r.ok());
            pids.push_back(r.pid());
        }
        return pids;
    }
    std::string version_of(Pid pid) {
        auto info = runtime.process_info(pid);
        return info ? info->module_version : "(dead)";
    }
    // Keeps `server` inside a callback for `how_long` (another process calls
    // {sleep, Ms}); returns once the call has reached it (as far as a short
    // wait can tell: a bound, not a correctness condition).
    void keep_busy(Pid server, std::chrono::milliseconds how_long) {
        Pid me_pid = self();
        spawn([=] {
            send(me_pid, Atom("sleeping"));
            gen_server::call(server, Term::tuple({Atom("sleep"), static_cast<int64_t>(how_long.count())}), patience);
            send(me_pid, Term::tuple({Atom("woke"), server}));
        });
        expect_message(match::as_pattern(Atom("sleeping")));
        sleep_for(50ms);
    }
    // Waits until the callback keep_busy started has returned.
    void wait_until_idle(Pid server) { expect_message(match::tuple(Atom("woke"), server)); }
    Term state_of(Pid pid) {
        auto status = gen_server::get_status(pid, patience);
        REQUIRE(status.has_value());
        return *status->find(Atom("state"));
    }
};

// Is a private copy whose name contains `fragment` mapped in this process?
inline bool mapped(const std::string& fragment) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line))
        if (line.find(fragment) != std::string::npos) return true;
    return false;
}

inline std::string text(const code::UpgradeReport& r) { return r.to_text(); }

}  // namespace otpp::test
