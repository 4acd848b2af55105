// spawn, self, send, receive: selective receive keeps order, timeouts.
#include "support.hpp"

#include <otpp/error.hpp>

#include <atomic>
#include <thread>

using namespace otpp;
using namespace otpp::test;

TEST_CASE_METHOD(RuntimeFixture, "a spawned process receives, replies and ends", "[process]") {
    Pid parent = self();
    Pid echo = spawn([parent] {
        Term m = receive();
        send(parent, Term::tuple({self(), m}));
    });
    CHECK(echo != parent);
    send(echo, Term::tuple({Atom("hello"), 42}));
    Term reply = expect_message();
    CHECK(reply == Term::tuple({echo, Term::tuple({Atom("hello"), 42})}));
    CHECK(wait_dead(echo));
}

TEST_CASE_METHOD(RuntimeFixture, "selective receive takes the first match and keeps the rest in order",
                 "[process][receive]") {
    Pid parent = self();
    Pid worker = spawn([parent] {
        // Wait for the `go` message first, although it arrives last.
        receive(match::tuple(Atom("go"), match::_));
        for (int i = 0; i < 5; ++i) send(parent, receive());
    });
    for (int i = 0; i < 5; ++i) send(worker, i);
    send(worker, Term::tuple({Atom("go"), 0}));
    for (int i = 0; i < 5; ++i) CHECK(expect_message() == Term(i));
}

TEST_CASE_METHOD(RuntimeFixture, "skipped messages stay queued for the next receive", "[receive]") {
    send(self(), Atom("a"));
    send(self(), 1);
    send(self(), Atom("b"));
    CHECK(expect_message(match::integer) == Term(1));
    CHECK(expect_message() == Term(Atom("a")));
    CHECK(expect_message() == Term(Atom("b")));
}

TEST_CASE_METHOD(RuntimeFixture, "receive with a timeout returns nothing and leaves the mailbox alone",
                 "[receive][timer]") {
    send(self(), Atom("unrelated"));
    auto got = receive(match::integer, 20ms);
    CHECK_FALSE(got.has_value());
    CHECK(expect_message() == Term(Atom("unrelated")));
}

TEST_CASE_METHOD(RuntimeFixture, "receive timeouts inside processes fire", "[receive][timer]") {
    Pid parent = self();
    spawn([parent] {
        auto a = receive(10ms);
        auto b = receive(match::atom, Timeout(0));
        send(parent, Term::tuple({a.has_value(), b.has_value()}));
    });
    CHECK(expect_message() == Term::tuple({false, false}));
}

TEST_CASE_METHOD(RuntimeFixture, "a message that arrives before the timeout is received", "[receive][timer]") {
    Pid parent = self();
    Pid p = spawn([parent] {
        auto m = receive(patience);
        send(parent, m ? *m : Term(Atom("timeout")));
    });
    sleep_for(5ms);
    send(p, Atom("in_time"));
    CHECK(expect_message() == Term(Atom("in_time")));
}

TEST_CASE_METHOD(RuntimeFixture, "sending to a dead pid does nothing", "[process]") {
    Pid p = spawn([] {});
    REQUIRE(wait_dead(p));
    send(p, Atom("into_the_void"));  // must not throw or crash
    CHECK_FALSE(is_process_alive(p));
}

TEST_CASE_METHOD(RuntimeFixture, "a pid is never reused: a stale pid cannot reach a new process",
                 "[process]") {
    Pid parent = self();
    Pid first = spawn([] {});
    REQUIRE(wait_dead(first));
    // Spawn enough processes to reuse the control block of `first`.
    std::vector<Pid> later;
    for (int i = 0; i < 50; ++i) later.push_back(spawn([parent] { send(parent, receive()); }));
    for (Pid p : later) CHECK(p != first);
    send(first, Atom("stale"));
    for (Pid p : later) send(p, Atom("fresh"));
    for (int i = 0; i < 50; ++i) CHECK(expect_message() == Term(Atom("fresh")));
    expect_no_message();
}

TEST_CASE_METHOD(RuntimeFixture, "self() outside a process is an error", "[process]") {
    std::atomic<int> result{0};
    std::thread t([&] {
        try {
            (void)self();
            result = 1;
        } catch (const BadArg&) {
            result = 2;
        }
    });
    t.join();
    CHECK(result == 2);
}

TEST_CASE_METHOD(RuntimeFixture, "plain threads may spawn and send", "[process]") {
    Pid parent = self();
    std::thread t([parent] {
        Pid p = spawn([parent] { send(parent, Term::tuple({Atom("from"), receive()})); });
        send(p, Atom("thread"));
    });
    t.join();
    CHECK(expect_message() == Term::tuple({Atom("from"), Atom("thread")}));
}

TEST_CASE_METHOD(RuntimeFixture, "many processes on all schedulers all answer", "[process][scheduler]") {
    constexpr int n = 5000;
    Pid parent = self();
    for (int i = 0; i < n; ++i)
        spawn([parent, i] {
            yield();
            send(parent, i);
        });
    int64_t sum = 0;
    for (int i = 0; i < n; ++i) sum += expect_message().get<int64_t>();
    CHECK(sum == int64_t{n} * (n - 1) / 2);
}

TEST_CASE_METHOD(RuntimeFixture, "a large term is shared, not copied, when sent", "[process]") {
    std::vector<Term> items;
    for (int i = 0; i < 1000; ++i) items.push_back(i);
    Term big = Term::list(items);
    Pid parent = self();
    Pid p = spawn([parent] { send(parent, receive()); });
    send(p, big);
    Term back = expect_message();
    CHECK(back == big);
    CHECK(back.elements().data() == big.elements().data());  // the same box
}
