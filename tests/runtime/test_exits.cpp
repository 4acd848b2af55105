// How processes end: return, exit(Reason), exceptions, kills inside loops.
#include "support.hpp"

#include <atomic>

using namespace otpp;
using namespace otpp::test;

namespace {
Term down(Ref ref, Pid pid, Term reason) {
    return Term::tuple({atoms::DOWN, ref, atoms::process, pid, std::move(reason)});
}
}  // namespace

TEST_CASE_METHOD(RuntimeFixture, "exit reasons: return, exit/1, exceptions", "[exits]") {
    auto [a, ra] = spawn_monitor([] {});
    CHECK(expect_message() == down(ra, a, atoms::normal));

    auto [b, rb] = spawn_monitor([] { exit(Term::tuple({Atom("shutdown"), 7})); });
    CHECK(expect_message() == down(rb, b, Term::tuple({Atom("shutdown"), 7})));

    auto [c, rc] = spawn_monitor([] { throw std::logic_error("bad state"); });
    CHECK(expect_message() == down(rc, c, Term::tuple({atoms::exception, Term::binary("std::logic_error: bad state")})));

    auto [d, rd] = spawn_monitor([] { throw 42; });
    CHECK(expect_message() == down(rd, d, Term::tuple({atoms::exception, Term::binary("int")})));
}

TEST_CASE_METHOD(RuntimeFixture, "a kill reaches a loop at its next yield point", "[exits][scheduler]") {
    Pid parent = self();
    Pid spinner = spawn([parent] {
        send(parent, Atom("spinning"));
        for (;;) yield_point();  // an empty loop, but for the yield point
    });
    CHECK(expect_message() == Term(Atom("spinning")));
    Ref ref = monitor(spinner);
    exit(spinner, atoms::kill);
    CHECK(expect_message() == down(ref, spinner, atoms::killed));
}

TEST_CASE_METHOD(RuntimeFixture, "catch (...) cannot keep a killed process alive", "[exits]") {
    Pid parent = self();
    std::atomic<int> caught{0};
    Pid stubborn = spawn([parent, &caught] {
        send(parent, Atom("ready"));
        for (;;) {
            try {
                receive();
            } catch (...) {
                ++caught;  // swallowing the kill: the next receive rethrows it
            }
        }
    });
    CHECK(expect_message() == Term(Atom("ready")));
    Ref ref = monitor(stubborn);
    exit(stubborn, atoms::kill);
    CHECK(expect_message() == down(ref, stubborn, atoms::killed));
    CHECK(caught >= 1);
}

TEST_CASE_METHOD(RuntimeFixture, "destructors on a killed process's stack run", "[exits]") {
    std::atomic<bool> destroyed{false};
    struct Guard {
        std::atomic<bool>* flag;
        ~Guard() { *flag = true; }
    };
    Pid parent = self();
    Pid p = spawn([&destroyed, parent] {
        Guard g{&destroyed};
        send(parent, Atom("armed"));
        receive();
    });
    CHECK(expect_message() == Term(Atom("armed")));
    exit(p, Atom("stop"));
    REQUIRE(wait_dead(p));
    CHECK(destroyed);
}

TEST_CASE_METHOD(RuntimeFixture, "exit(self(), normal) ends the caller", "[exits]") {
    auto [p, ref] = spawn_monitor([] {
        exit(self(), atoms::normal);
        exit(Atom("not_reached"));
    });
    CHECK(expect_message() == down(ref, p, atoms::normal));
}
