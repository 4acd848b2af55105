// send_after / cancel_timer, including the cancel race.
#include "support.hpp"

#include <random>

using namespace otpp;
using namespace otpp::test;

TEST_CASE_METHOD(RuntimeFixture, "send_after delivers the message later", "[timer]") {
    auto start = std::chrono::steady_clock::now();
    send_after(20ms, self(), Atom("ding"));
    CHECK(expect_message() == Term(Atom("ding")));
    CHECK(std::chrono::steady_clock::now() - start >= 20ms);  // never early
}

TEST_CASE_METHOD(RuntimeFixture, "send_after to a registered name", "[timer]") {
    register_name(Atom("timer_target"), self());
    send_after(1ms, Atom("timer_target"), Atom("by_name"));
    CHECK(expect_message() == Term(Atom("by_name")));
    unregister_name(Atom("timer_target"));
}

TEST_CASE_METHOD(RuntimeFixture, "a cancelled timer never delivers", "[timer]") {
    Ref t = send_after(10s, self(), Atom("never"));
    auto left = cancel_timer(t);
    REQUIRE(left.has_value());
    CHECK(*left > 5s);
    CHECK(*left <= 10s);
    CHECK_FALSE(cancel_timer(t).has_value());  // already cancelled
    expect_no_message(30ms);
}

TEST_CASE_METHOD(RuntimeFixture, "cancelling a fired timer returns nothing", "[timer]") {
    Ref t = send_after(1ms, self(), Atom("fired"));
    CHECK(expect_message() == Term(Atom("fired")));
    CHECK_FALSE(cancel_timer(t).has_value());
}

TEST_CASE_METHOD(RuntimeFixture, "timer cancel race: each timer either fires or is cancelled, never both",
                 "[timer][race]") {
    // Timers due about now, cancelled about now, from inside processes on both
    // schedulers: whatever the interleaving, cancel_timer's answer must agree
    // with whether the message arrives.
    constexpr int n = 400;
    Pid parent = self();
    for (int i = 0; i < n; ++i) {
        spawn([parent, i] {
            Ref t = send_after(Timeout(i % 3), self(), i);
            if (i % 2) yield();
            bool cancelled = cancel_timer(t).has_value();
            bool arrived = receive(match::integer, 200ms).has_value();
            send(parent, Term::tuple({i, cancelled, arrived}));
        });
    }
    int cancelled = 0;
    for (int k = 0; k < n; ++k) {
        Term r = expect_message();
        bool was_cancelled = r[1] == Term(true);
        bool arrived = r[2] == Term(true);
        CHECK(was_cancelled != arrived);
        cancelled += was_cancelled;
    }
    INFO("cancelled " << cancelled << " of " << n);
    SUCCEED();
}

TEST_CASE_METHOD(RuntimeFixture, "sleep_for suspends only the caller", "[timer]") {
    Pid parent = self();
    spawn([parent] {
        sleep_for(30ms);
        send(parent, Atom("slept"));
    });
    spawn([parent] { send(parent, Atom("quick")); });
    CHECK(expect_message() == Term(Atom("quick")));
    CHECK(expect_message() == Term(Atom("slept")));
}

TEST_CASE_METHOD(RuntimeFixture, "thousands of timers all fire exactly once", "[timer]") {
    Pid parent = self();
    constexpr int n = 2000;
    for (int i = 0; i < n; ++i) send_after(Timeout(1 + (i % 50)), parent, i % 50);
    std::vector<int> count(50);
    for (int i = 0; i < n; ++i) ++count[static_cast<std::size_t>(expect_message().get<int64_t>())];
    for (int c : count) CHECK(c == n / 50);
    expect_no_message();
}
