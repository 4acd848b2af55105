// The EPMD client against a real epmd: starting one, registering (visible in
// NAMES_REQ, gone with the registration object), PORT_PLEASE2 of a real erl.
// Names are unique per test process, so parallel runs share epmd safely.
#include <catch2/catch.hpp>

#include "dist_peer.hpp"

#include <epmd_client.hpp>

#include <algorithm>
#include <cstdio>
#include <thread>

using namespace otpp::dist;
using namespace otpp::dist::test;

namespace {

bool listed(const std::vector<std::pair<std::string, std::uint16_t>>& names, const std::string& alive,
            std::uint16_t port) {
    return std::find(names.begin(), names.end(), std::pair{alive, port}) != names.end();
}

// The system's epmd (ERL_EPMD_PORT or 4369), started if none runs.
EpmdEndpoint local_epmd() {
    ensure_epmd(epmd_port_from_env(), Deadline(10s));
    return EpmdEndpoint::local();
}

}  // namespace

TEST_CASE("ensure_epmd starts epmd -daemon where none answers and then leaves it be", "[epmd]") {
    // A private epmd on a free port, so that this test neither depends on nor
    // disturbs the system's; killed at the end (KILL_REQ) even on failure.
    const std::uint16_t port = free_port();
    const EpmdEndpoint epmd{Ipv4::loopback(), port};
    REQUIRE_FALSE(epmd_answers(epmd, Deadline(1s)));
    // Stops it at the end, but only if this test started it.
    struct Killer {
        std::uint16_t port;
        bool armed = false;
        ~Killer() {
            if (!armed) return;
            try {
                kill_epmd(port, Deadline(5s));
            } catch (const std::exception& e) {
                std::fprintf(stderr, "could not stop the test's epmd on port %u: %s\n", port, e.what());
            }
        }
    } killer{port};
    auto t0 = SteadyClock::now();
    killer.armed = ensure_epmd(port, Deadline(10s), EnsureEpmdOptions{.extra_args = {"-address", "127.0.0.1"}});
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t0);
    REQUIRE(killer.armed);
    std::fprintf(stderr, "measured: starting epmd -daemon until it answers took %lld ms\n",
                 static_cast<long long>(took.count()));
    CHECK(epmd_answers(epmd, Deadline(1s)));
    CHECK_FALSE(ensure_epmd(port, Deadline(5s)));

    // It is a working epmd: a registration there is listed there.
    const std::string alive = unique_alive("private");
    auto reg = EpmdRegistration::register_node(alive, 40001, Deadline(5s), RegisterOptions{.epmd = epmd});
    CHECK(listed(epmd_names(Deadline(5s), epmd), alive, 40001));
    reg.close();
}

TEST_CASE("ensure_epmd reports a program that cannot run", "[epmd]") {
    const std::uint16_t port = free_port();
    try {
        ensure_epmd(port, Deadline(2s), EnsureEpmdOptions{.program = "/nonexistent/epmd"});
        FAIL("no error");
    } catch (const EpmdError& e) {
        CHECK_THAT(std::string(e.what()), Catch::Contains("/nonexistent/epmd"));
    }
}

TEST_CASE("a registration is listed by NAMES_REQ and disappears with its object", "[epmd]") {
    const EpmdEndpoint epmd = local_epmd();
    const std::string alive = unique_alive("names");
    std::uint32_t creation = 0;
    {
        auto reg = EpmdRegistration::register_node(alive, 40002, Deadline(5s));
        CHECK(reg.registered());
        CHECK(reg.alive() == alive);
        CHECK(reg.port() == 40002);
        creation = reg.creation();
        CHECK(creation != 0);
        CHECK(listed(epmd_names(Deadline(5s), epmd), alive, 40002));

        auto np = port_please(alive, Deadline(5s), epmd);
        REQUIRE(np);
        CHECK(np->port == 40002);
        CHECK(np->name == alive);
        CHECK(np->node_type == EPMD_NODE_TYPE_NORMAL);
        CHECK(np->highest_version == 6);
        CHECK(np->lowest_version == 6);

        // The name is taken while we hold it.
        try {
            EpmdRegistration::register_node(alive, 40003, Deadline(5s));
            FAIL("registered twice");
        } catch (const EpmdError& e) {
            CHECK_THAT(std::string(e.what()), Catch::Contains(alive) && Catch::Contains("in use"));
        }
    }
    // epmd sees the socket close on its own: poll until the name is gone.
    auto t0 = SteadyClock::now();
    Deadline gone(5s);
    while (listed(epmd_names(Deadline(5s), epmd), alive, 40002) && !gone.expired()) std::this_thread::sleep_for(5ms);
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t0);
    std::fprintf(stderr, "measured: epmd forgot a closed registration after %lld us\n",
                 static_cast<long long>(took.count()));
    CHECK_FALSE(listed(epmd_names(Deadline(5s), epmd), alive, 40002));
    CHECK_FALSE(port_please(alive, Deadline(5s), epmd));

    // A new incarnation under the same name gets a new creation.
    auto again = EpmdRegistration::register_node(alive, 40002, Deadline(5s));
    CHECK(again.creation() != 0);
    CHECK(again.creation() != creation);
    std::fprintf(stderr, "measured: creations from epmd: %u then %u\n", creation, again.creation());
}

TEST_CASE("PORT_PLEASE2 of a real erl node", "[epmd][erl]") {
    const EpmdEndpoint epmd = local_epmd();
    const std::string alive = unique_alive("pp");
    ErlNode erl(erl_args(alive, "PPCOOKIE",
                         "io:format(\"ready ~p~n\", [node()]), receive after 20000 -> ok end, halt()."));
    erl.read_until("ready", Deadline(20s));
    auto np = port_please(alive, Deadline(5s), epmd);
    REQUIRE(np);
    CHECK(np->name == alive);
    CHECK(np->port > 0);
    CHECK(np->node_type == EPMD_NODE_TYPE_NORMAL);
    CHECK(np->protocol == EPMD_PROTOCOL_TCP_IPV4);
    CHECK(np->highest_version == 6);
    // OTP 25.2.3 registers lowest version 5 (measured), although its own
    // docs say 6 from OTP 25 on; either way 6 is in its range.
    CHECK(np->lowest_version <= 6);
    CHECK(np->extra.empty());
    // The port is erl's: something accepts connections there.
    CHECK_NOTHROW(connect_tcp(Ipv4::loopback(), np->port, Deadline(2s)));
    CHECK(listed(epmd_names(Deadline(5s), epmd), alive, np->port));
    CHECK_FALSE(port_please(alive + "_nobody", Deadline(5s), epmd));
}

TEST_CASE("ERL_EPMD_PORT is honoured and checked", "[epmd]") {
    {
        ScopedEnv env("ERL_EPMD_PORT", "4370");
        CHECK(epmd_port_from_env() == 4370);
        CHECK(EpmdEndpoint::local().port == 4370);
    }
    {
        ScopedEnv env("ERL_EPMD_PORT", std::nullopt);
        CHECK(epmd_port_from_env() == 4369);
    }
    ScopedEnv env("ERL_EPMD_PORT", "43x");
    CHECK_THROWS_WITH(epmd_port_from_env(), Catch::Contains("ERL_EPMD_PORT='43x'"));
}
