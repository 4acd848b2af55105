// The runtime in one minute: a narrated tour that checks what it claims.
//
//   1. 100,000 processes in a ring pass a token around 10 times.
//   2. "Let it crash": a worker dies, its monitor hears why, nothing else notices.
//   3. A process that never yields holds a scheduler thread, yet a timer-driven
//      process and a request/reply pair keep being served.
//   4. A loop with yield points is killed from outside.
// Exits 0 only if every check held.
#include <otpp/process.hpp>
#include <otpp/runtime.hpp>
#include <otpp/scoped_process.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <vector>

using namespace otpp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

int failures = 0;

void check(bool ok, const char* what) {
    std::printf("   [%s] %s\n", ok ? " ok " : "FAIL", what);
    if (!ok) ++failures;
}

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

void ring(Runtime& runtime, int size) {
    constexpr int laps = 10;
    std::printf("1. A ring of %d processes, a token passed %d times around it\n", size, laps);
    Pid parent = self();
    auto start = Clock::now();
    std::vector<Pid> members(size);
    for (auto& pid : members)
        pid = spawn([parent] {
            Pid next = receive().get<Pid>();
            for (;;) {
                int64_t hops = receive().get<int64_t>();
                if (hops == 0) send(parent, Atom("around"));
                else send(next, hops - 1);
            }
        });
    for (int i = 0; i < size; ++i) send(members[i], members[(i + 1) % size]);
    std::printf("   spawned and wired in %.0f ms; %zu processes alive\n", ms_since(start),
                runtime.process_count());
    start = Clock::now();
    send(members[0], int64_t{size} * laps);
    auto done = receive(match::atom, 60s);
    double ms = ms_since(start);
    check(done && *done == Term(Atom("around")), "the token came back after every hop");
    std::printf("   %.0f ms, %.0f ns per hop\n", ms, ms * 1e6 / (double(size) * laps));
    for (Pid pid : members) exit(pid, atoms::kill);
}

void let_it_crash() {
    std::printf("2. Let it crash: a worker fails on a bad request\n");
    auto [worker, ref] = spawn_monitor([] {
        Term request = receive();
        int64_t n = request.get<int64_t>();  // throws BadArg for a non-integer
        std::printf("   worker: got %lld\n", static_cast<long long>(n));
    });
    send(worker, Atom("not_a_number"));
    auto down = receive(match::tuple(atoms::DOWN, ref, match::_, match::_, match::_), 10s);
    check(down.has_value(), "the monitor got a DOWN message");
    if (down) std::printf("   DOWN reason: %s\n", (*down)[4].to_string().c_str());
    check(down && (*down)[4].is_tuple(2) && (*down)[4][0] == Term(atoms::exception),
          "the reason carries the exception, and the host is still up");
}

void nobody_starves(Runtime& runtime) {
    std::printf("3. A process that never yields, on a runtime with %u scheduler(s)\n", runtime.stats().schedulers);
    std::atomic<bool> stop{false};
    Pid hog = spawn([&stop] {
        while (!stop.load(std::memory_order_relaxed)) {}  // plain C++: no yield points
    });
    std::this_thread::sleep_for(50ms);
    Pid parent = self();
    auto start = Clock::now();
    spawn([parent] {
        for (int i = 0; i < 50; ++i) sleep_for(2ms);
        send(parent, Atom("ticked_50_times"));
    });
    auto ticked = receive(10s);
    check(ticked && *ticked == Term(Atom("ticked_50_times")), "a timer-driven process kept ticking");
    std::printf("   50 ticks of 2 ms took %.0f ms; replacement threads started: %u\n", ms_since(start),
                runtime.stats().replacement_threads);
    Pid echo = spawn([] {
        Term m = receive();
        send(m[0].get<Pid>(), m[1]);
    });
    send(echo, Term::tuple({parent, Atom("still_responsive")}));
    auto reply = receive(10s);
    check(reply && *reply == Term(Atom("still_responsive")), "request/reply still works");
    stop = true;
    Ref hog_ref = monitor(hog);  // `stop` lives on this frame: wait for the hog to be gone
    receive(match::tuple(atoms::DOWN, hog_ref, match::_, match::_, match::_));
}

void kill_a_loop() {
    std::printf("4. A loop with yield points is killed from outside\n");
    Pid parent = self();
    Pid spinner = spawn([parent] {
        send(parent, Atom("spinning"));
        for (uint64_t i = 0;; ++i) yield_point();
    });
    receive(10s);
    Ref ref = monitor(spinner);
    auto start = Clock::now();
    exit(spinner, atoms::kill);
    auto down = receive(match::tuple(atoms::DOWN, ref, match::_, match::_, atoms::killed), 10s);
    check(down.has_value(), "the spinner died with reason killed");
    std::printf("   kill to DOWN: %.2f ms\n", ms_since(start));
}

}  // namespace

int main(int argc, char** argv) {
    // --ring N: ring size (default 100,000; ThreadSanitizer builds use fewer,
    // since TSan counts every fiber against its 8,128-thread limit).
    int ring_size = 100'000;
    for (int i = 1; i + 1 < argc; ++i)
        if (std::string_view(argv[i]) == "--ring") ring_size = std::atoi(argv[i + 1]);
    Runtime runtime(RuntimeOptions{.schedulers = 1});
    ScopedProcess me;
    ring(runtime, ring_size);
    let_it_crash();
    nobody_starves(runtime);
    kill_a_loop();
    std::printf(failures ? "FAILED: %d check(s)\n" : "all checks passed\n", failures);
    return failures ? 1 : 0;
}
