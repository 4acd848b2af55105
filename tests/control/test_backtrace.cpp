// Backtraces of running processes (host/control/backtrace.hpp): the stack of
// a process spinning at 100% CPU names the function it spins in.
#include "support.hpp"

#include <algorithm>

#include <atomic>
#include <thread>

using namespace otpp;
using namespace otpp::control;
using namespace otpp::control::test;

namespace otpp_control_test {

// Spins until told to stop, reaching a yield point now and then (so that it
// can be killed), but spending almost all its time in this very function.
[[gnu::noinline]] void spin_here_until(const std::atomic<bool>& stop) {
    volatile std::uint64_t turns = 0;
    while (!stop.load(std::memory_order_relaxed)) {
        for (int i = 0; i < 1'000'000; ++i) turns = turns + 1;
        yield_point();
    }
}

}  // namespace otpp_control_test

namespace {

bool names(const Backtrace& bt, const std::string& fragment) {
    for (const auto& f : bt.frames)
        if (f.function.find(fragment) != std::string::npos) return true;
    return false;
}

std::string dump(const Backtrace& bt) {
    std::string out = bt.note + "\n";
    for (const auto& f : bt.frames) out += "  " + to_string(f) + "\n";
    return out;
}

}  // namespace

TEST_CASE("backtrace: a spinning process's stack names the function it spins in", "[control][backtrace]") {
#if defined(__SANITIZE_THREAD__)
    // TSan runs signal handlers late, at its own interception points, which a
    // fiber spinning in plain code rarely reaches: the sample then lands on the
    // wrong context and the spinner can outlive its runtime. Plain and ASan
    // runs check backtraces.
    WARN("not run under ThreadSanitizer (it defers signal handlers)");
    return;
#endif
    RuntimeOptions o;
    o.schedulers = 2;
    std::atomic<bool> stop{false};  // outlives the runtime: the spinner reads it until shutdown
    Runtime runtime(o);
    install_backtrace_handler();
    Pid spinner = spawn([&stop] { otpp_control_test::spin_here_until(stop); });
    // It is running most of the time, but a sample may land on a yield point
    // or find it queued: a few attempts, no timing assumption.
    bool found = false;
    Backtrace bt;
    for (int attempt = 0; attempt < 50 && !found; ++attempt) {
        bt = backtrace_of(spinner, std::chrono::milliseconds(2000));
        found = bt.captured && names(bt, "spin_here_until");
        if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    INFO(dump(bt));
    CHECK(found);
    // The spinning function is ours (frame 0 may be the handler's own under
    // TSan, which runs signal handlers late, at its interceptors).
    auto spin = std::find_if(bt.frames.begin(), bt.frames.end(),
                             [](const auto& f) { return f.function.find("spin_here_until") != std::string::npos; });
    REQUIRE(spin != bt.frames.end());
    CHECK(spin->object.find("otpp_control_tests") != std::string::npos);
    REQUIRE(bt.info.has_value());
    CHECK(bt.info->pid == spinner);
    stop = true;
}

TEST_CASE("backtrace: a waiting process gets its status instead of a stack", "[control][backtrace]") {
    RuntimeOptions o;
    o.schedulers = 2;
    Runtime runtime(o);
    ScopedProcess me;
    Pid waiter = spawn([] { receive(); });
    // Wait until it is waiting (it starts runnable).
    for (int i = 0; i < 1000; ++i) {
        auto info = runtime.process_info(waiter);
        if (info && info->status == ProcessStatus::waiting) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    Backtrace bt = backtrace_of(waiter);
    CHECK_FALSE(bt.captured);
    CHECK(bt.frames.empty());
    REQUIRE(bt.info.has_value());
    CHECK(bt.info->status == ProcessStatus::waiting);
    CHECK(bt.note.find("cannot be unwound") != std::string::npos);
    send(waiter, Atom("go"));

    Backtrace gone = backtrace_of(Pid{0, 999999, 0});
    CHECK_FALSE(gone.captured);
    CHECK(gone.note == "no such process");
}

TEST_CASE("backtrace: through the protocol, info shows the spinning function", "[control][backtrace][protocol]") {
#if defined(__SANITIZE_THREAD__)
    // TSan runs signal handlers late, at its own interception points, which a
    // fiber spinning in plain code rarely reaches: the sample then lands on the
    // wrong context and the spinner can outlive its runtime. Plain and ASan
    // runs check backtraces.
    WARN("not run under ThreadSanitizer (it defers signal handlers)");
    return;
#endif
    std::atomic<bool> stop{false};  // outlives the runtime: the spinner reads it until shutdown
    ServerFixture f;
    Pid spinner = spawn([&stop] { otpp_control_test::spin_here_until(stop); });
    Client c(f.socket());
    // As above, a sample may miss: attempts for up to 30 s, spaced so that a
    // loaded machine's stall (the spinner's thread off its core) passes.
    bool found = false;
    std::string last;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!found && std::chrono::steady_clock::now() < give_up) {
        Term info = result(c.rpc(Term::tuple({Atom("info"), Term::list({spinner})})));
        const Term& bt = get(info, "backtrace");
        last = bt.to_string(4000);
        if (get(bt, "captured") == Term(true))
            for (const Term& frame : get(bt, "frames").elements())
                if (std::string(get(frame, "function").bytes()).find("spin_here_until") != std::string::npos)
                    found = true;
        if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    INFO(last);
    CHECK(found);
    stop = true;
}

TEST_CASE("symbolizer: names a function of the executable, of libotpp, and says nothing for nonsense",
          "[control][backtrace]") {
    auto here = symbolize(reinterpret_cast<std::uintptr_t>(&otpp_control_test::spin_here_until) + 1);
    CHECK(here.function.find("otpp_control_test::spin_here_until") != std::string::npos);
    CHECK(here.offset == 1);
    auto lib = symbolize(reinterpret_cast<std::uintptr_t>(&otpp::yield_point));
    CHECK(lib.function.find("yield_point") != std::string::npos);
    CHECK(lib.object.find("libotpp") != std::string::npos);
    auto none = symbolize(16);
    CHECK(none.function.empty());
    CHECK(none.object.empty());
}
