// Monitors: DOWN messages, noproc, demonitor and flush.
#include "support.hpp"

using namespace otpp;
using namespace otpp::test;

namespace {
Term down(Ref ref, Pid pid, Term reason) {
    return Term::tuple({atoms::DOWN, ref, atoms::process, pid, std::move(reason)});
}
}  // namespace

TEST_CASE_METHOD(RuntimeFixture, "a monitor reports the exit reason", "[monitors]") {
    Pid p = spawn([] {
        receive();
        exit(Atom("bye"));
    });
    Ref ref = monitor(p);
    send(p, Atom("go"));
    CHECK(expect_message() == down(ref, p, Atom("bye")));
}

TEST_CASE_METHOD(RuntimeFixture, "monitoring a dead pid gives DOWN noproc at once", "[monitors]") {
    Pid p = spawn([] {});
    REQUIRE(wait_dead(p));
    Ref ref = monitor(p);
    auto m = receive(Timeout(0));  // already there: no waiting
    REQUIRE(m.has_value());
    CHECK(*m == down(ref, p, atoms::noproc));
}

TEST_CASE_METHOD(RuntimeFixture, "spawn_monitor", "[monitors]") {
    auto [pid, ref] = spawn_monitor([] { exit(Atom("done")); });
    CHECK(expect_message() == down(ref, pid, Atom("done")));
}

TEST_CASE_METHOD(RuntimeFixture, "demonitor stops the DOWN message", "[monitors]") {
    Pid p = spawn([] { receive(); });
    Ref ref = monitor(p);
    CHECK(demonitor(ref));
    exit(p, atoms::kill);
    REQUIRE(wait_dead(p));
    expect_no_message();
    CHECK_FALSE(demonitor(ref));
}

TEST_CASE_METHOD(RuntimeFixture, "demonitor with flush removes a DOWN already queued", "[monitors]") {
    Pid p = spawn([] {});
    Ref ref = monitor(p);
    REQUIRE(wait_dead(p));
    sleep_for(10ms);  // let the DOWN arrive
    send(self(), Atom("marker"));
    demonitor(ref, Flush::yes);
    CHECK(expect_message() == Term(Atom("marker")));
    expect_no_message();
}

TEST_CASE_METHOD(RuntimeFixture, "two monitors on one process give two DOWNs", "[monitors]") {
    Pid p = spawn([] { receive(); });
    Ref a = monitor(p);
    Ref b = monitor(p);
    CHECK(a != b);
    send(p, Atom("go"));
    Term m1 = expect_message();
    Term m2 = expect_message();
    CHECK(((m1 == down(a, p, atoms::normal) && m2 == down(b, p, atoms::normal)) ||
           (m1 == down(b, p, atoms::normal) && m2 == down(a, p, atoms::normal))));
}
