// Scheduling: reductions, fairness, and nobody starves behind a process that
// never yields.
#include "support.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

using namespace otpp;
using namespace otpp::test;

namespace {

// Counts timer-driven ticks: the process sleeps 1 ms per round and reports.
Pid ticker(Pid report_to, int rounds) {
    return spawn([report_to, rounds] {
        for (int i = 0; i < rounds; ++i) sleep_for(1ms);
        send(report_to, Atom("ticked"));
    });
}

void run_non_yielding_test(unsigned schedulers) {
    std::atomic<bool> stop{false};  // outlives the runtime, hence the hog
    Runtime runtime(RuntimeOptions{.schedulers = schedulers, .stuck_after = std::chrono::milliseconds(20)});
    ScopedProcess me;
    Pid hog = spawn([&stop] {
        // Plain C++: no yield_point, no receive.
        while (!stop.load(std::memory_order_relaxed)) {}
    });
    // Give the hog a scheduler thread first.
    sleep_for(30ms);
    // A timer-driven process must keep making progress...
    ticker(self(), 20);
    auto got = receive(patience);
    // ...and so must a process woken by a message.
    Pid parent = self();
    Pid echo = spawn([parent] { send(parent, receive()); });
    send(echo, Atom("ping"));
    auto pong = receive(patience);
    stop = true;
    REQUIRE(got.has_value());
    CHECK(*got == Term(Atom("ticked")));
    REQUIRE(pong.has_value());
    CHECK(*pong == Term(Atom("ping")));
    CHECK(runtime.stats().replacement_threads >= (schedulers == 1 ? 1u : 0u));
    (void)hog;
}

}  // namespace

TEST_CASE("a non-yielding process does not stop timer-driven processes (1 scheduler)",
          "[scheduler][starvation]") {
    run_non_yielding_test(1);
}

TEST_CASE("a non-yielding process does not stop timer-driven processes (2 schedulers)",
          "[scheduler][starvation]") {
    run_non_yielding_test(2);
}

namespace {

// A process stuck in code that never yields until `stop`, then arming a
// timer (or waking a process) on the thread that is being replaced: by then
// the replacement has found nothing to do and sleeps with no timeout.
void run_stuck_then_lets_go(bool with_timer) {
    std::atomic<bool> stop{false};  // outlives the runtime, hence the spinner
    Runtime runtime(RuntimeOptions{.schedulers = 1, .stuck_after = std::chrono::milliseconds(20)});
    ScopedProcess me;
    Pid parent = self();
    Pid echo = spawn([parent] { send(parent, receive()); });
    spawn([&stop, parent, echo, with_timer] {
        while (!stop.load(std::memory_order_relaxed)) {}
        if (with_timer) {
            sleep_for(5ms);
            send(parent, Atom("woke"));
        } else {
            send(echo, Atom("woke"));
        }
    });
    auto deadline = std::chrono::steady_clock::now() + patience;
    while (runtime.stats().replacement_threads == 0 && std::chrono::steady_clock::now() < deadline)
        sleep_for(5ms);
    REQUIRE(runtime.stats().replacement_threads >= 1);
    sleep_for(50ms);  // the replacement runs out of work and sleeps
    stop = true;
    auto got = receive(patience);
    REQUIRE(got.has_value());
    CHECK(*got == Term(Atom("woke")));
}

}  // namespace

TEST_CASE("a stuck process that lets go of its replaced thread and arms a timer is woken by it (1 scheduler)",
          "[scheduler][starvation]") {
    run_stuck_then_lets_go(true);
}

TEST_CASE("a process woken by one that let go of its replaced thread runs (1 scheduler)",
          "[scheduler][starvation]") {
    run_stuck_then_lets_go(false);
}

TEST_CASE("two processes that yield via reductions share one scheduler", "[scheduler][reductions]") {
    std::atomic<uint64_t> a{0}, b{0};  // outlive the runtime, hence the spinners
    std::atomic<bool> stop{false};
    Runtime runtime(RuntimeOptions{.schedulers = 1, .max_replacement_threads = 0});
    ScopedProcess me;
    Pid parent = self();
    auto spin = [&stop](std::atomic<uint64_t>& counter) {
        while (!stop.load(std::memory_order_relaxed)) {
            counter.fetch_add(1, std::memory_order_relaxed);
            yield_point();
        }
    };
    Pid pa = spawn([&] { spin(a); });
    Pid pb = spawn([&] { spin(b); });
    // With no replacement threads, only preemption at yield points lets both
    // (and this check) run: wait until both made progress.
    auto deadline = std::chrono::steady_clock::now() + patience;
    while ((a.load() < 100000 || b.load() < 100000) && std::chrono::steady_clock::now() < deadline)
        sleep_for(5ms);
    CHECK(a.load() >= 100000);
    CHECK(b.load() >= 100000);
    stop = true;
    (void)parent;
    (void)pa;
    (void)pb;
}

TEST_CASE("reductions are counted", "[scheduler][reductions]") {
    Runtime runtime(RuntimeOptions{.schedulers = 2});
    ScopedProcess me;
    Pid parent = self();
    Pid p = spawn([parent] {
        for (int i = 0; i < 10000; ++i) yield_point();
        send(parent, Atom("done"));
        receive();
    });
    auto m = receive(patience);
    REQUIRE(m.has_value());
    // Reductions are accounted when the process switches out: wait for that.
    std::optional<ProcessInfo> info;
    auto deadline = std::chrono::steady_clock::now() + patience;
    do {
        sleep_for(1ms);
        info = runtime.process_info(p);
        REQUIRE(info.has_value());
    } while (info->status != ProcessStatus::waiting && std::chrono::steady_clock::now() < deadline);
    CHECK(info->reductions >= 10000);
    exit(p, atoms::kill);
}

TEST_CASE("shutdown kills and unwinds every process", "[scheduler]") {
    std::atomic<int> unwound{0};
    {
        Runtime runtime(RuntimeOptions{.schedulers = 2});
        struct Guard {
            std::atomic<int>* n;
            ~Guard() { ++*n; }
        };
        for (int i = 0; i < 100; ++i)
            spawn([&unwound] {
                Guard g{&unwound};
                receive();
            });
        // Let them all reach receive.
        ScopedProcess me;
        sleep_for(50ms);
    }
    CHECK(unwound == 100);
}

// The watchdog replaced the thread of a process that was off-CPU too long;
// when the process then yields, the old thread queues it and leaves: its
// replacement (asleep, with nothing else to do) must be woken to run it.
TEST_CASE("a process queued by a replaced scheduler thread runs again", "[scheduler][starvation]") {
    Runtime runtime(RuntimeOptions{.schedulers = 2, .stuck_after = std::chrono::milliseconds(20)});
    ScopedProcess me;
    Pid parent = self();
    spawn([parent] {
        std::this_thread::sleep_for(std::chrono::milliseconds(60));  // the watchdog sees a stuck scheduler
        yield();                                                       // back into the run queue
        send(parent, Atom("done"));
    });
    auto m = receive(patience);
    REQUIRE(m.has_value());
    CHECK(*m == Term(Atom("done")));
    CHECK(runtime.stats().replacement_threads >= 1u);
}

TEST_CASE("the runtime's threads are named for top -H and perf", "[scheduler]") {
    RuntimeFixture f(3);
    auto names = [] {
        std::multiset<std::string> out;
        for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
            std::ifstream comm(task.path() / "comm");
            std::string name;
            std::getline(comm, name);
            out.insert(name);
        }
        return out;
    };
    const std::initializer_list<const char*> expected = {"otpp-sched-0", "otpp-sched-1", "otpp-sched-2",
                                                         "otpp-watchdog"};
    // Each thread names itself as it starts, maybe after the constructor returned.
    std::multiset<std::string> seen = names();
    for (auto give_up = std::chrono::steady_clock::now() + 10s;
         std::chrono::steady_clock::now() < give_up &&
         !std::all_of(expected.begin(), expected.end(), [&](const char* n) { return seen.count(n) == 1; });
         seen = names())
        std::this_thread::sleep_for(10ms);
    for (const char* name : expected) {
        INFO(name);
        CHECK(seen.count(name) == 1);
    }
}
