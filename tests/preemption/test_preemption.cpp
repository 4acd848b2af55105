// Plugin code is preempted without writing yield_point(): a plain C++ loop in
// a plugin built by otpp_add_plugin() yields its scheduler and can be killed.
#include "fixture.hpp"

#include "../../host/runtime/preemption.hpp"

#include <atomic>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

extern "C" void __sanitizer_cov_trace_pc() noexcept;

using namespace otpp;
using namespace otpp::test;

namespace {

const Atom spinner{"spinner"}, spin{"spin"}, tick{"tick"}, count_to{"count_to"}, spawn_spinner{"spawn_spinner"};

bool mentions_hook(const char* file) {
    std::ifstream in(file, std::ios::binary);
    std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    return bytes.find("__sanitizer_cov_trace_pc") != std::string::npos;
}

// Ticks on a runtime timer and reports each tick to `report_to`.
Pid start_ticker(Pid report_to) {
    return spawn([report_to] {
        for (;;) {
            send_after(1ms, self(), tick);
            receive(match::as_pattern(tick));
            send(report_to, tick);
        }
    });
}

void expect_ticks(OneScheduler& f, int n) {
    for (int i = 0; i < n; ++i) f.expect_message(match::as_pattern(tick));
}

}  // namespace

TEST_CASE_METHOD(OneScheduler, "a plain loop in a plugin is preempted: one scheduler keeps serving a timer",
                 "[preemption]") {
    load(OTPP_SPINNER);
    Pid server = gen_server::start(spinner, Term()).pid();
    gen_server::cast(server, spin);
    // The spinner holds the only scheduler thread whenever it runs, and the
    // watchdog may not replace it: only preemption lets the ticker run.
    REQUIRE(busiest_process() == server);
    Pid ticker = start_ticker(self());
    expect_ticks(*this, 50);
    CHECK(runtime.stats().replacement_threads == 0);
    CHECK(is_process_alive(server));
    exit(ticker, atoms::kill);
}

TEST_CASE_METHOD(TwoSchedulers, "exit(Pid kill) reaches a spinning plugin process and its monitor sees killed",
                 "[preemption]") {
    load(OTPP_SPINNER);
    Pid server = gen_server::start(spinner, Term()).pid();
    Ref ref = monitor(server);
    Pid parent = self();
    Pid linked = spawn([server, parent] {
        link(server);
        send(parent, Atom("linked"));
        receive();
    });
    Ref linked_ref = monitor(linked);
    expect_message(match::as_pattern(Atom("linked")));
    gen_server::cast(server, spin);
    REQUIRE(busiest_process() == server);
    exit(server, atoms::kill);
    CHECK(expect_message(match::tuple(atoms::DOWN, ref, match::any, match::any, match::any))[4] ==
          Term(atoms::killed));
    CHECK_FALSE(runtime.process_info(server).has_value());
    // Its links hear of it too: the exit protocol ran in full.
    CHECK(expect_message(match::tuple(atoms::DOWN, linked_ref, match::any, match::any, match::any))[4] ==
          Term(atoms::killed));
}

TEST_CASE_METHOD(TwoSchedulers, "a plugin process that swallowed its kill and loops still dies", "[preemption]") {
    load(OTPP_SPINNER);
    Pid server = gen_server::start(spinner, Term()).pid();
    Pid worker = gen_server::call(server, Atom("swallow_then_spin")).get<Pid>();
    Ref ref = monitor(worker);
    sleep_for(20ms);  // let it reach its receive (a bound, not a condition)
    // The kill is thrown from receive, swallowed, and the loop starts: the
    // checks in that loop must still cut it loose.
    exit(worker, atoms::kill);
    CHECK(expect_message(match::tuple(atoms::DOWN, ref, match::any, match::any, match::any))[4] ==
          Term(atoms::killed));
    CHECK_FALSE(runtime.process_info(worker).has_value());
    CHECK(gen_server::call(server, Term::tuple({count_to, 10})) == Term(55));
}

TEST_CASE_METHOD(OneScheduler, "a killed spinner's code can be unloaded: its pin went with it", "[preemption]") {
    load(OTPP_SPINNER);
    Pid server = gen_server::start(spinner, Term()).pid();
    // A process spawned by the plugin's code, running it: pinned to 1.0.0.
    Pid worker = gen_server::call(server, spawn_spinner).get<Pid>();
    gen_server::stop_server(server);
    Ref ref = monitor(worker);
    REQUIRE(busiest_process() == worker);
    load(OTPP_SPINNER_UNPREEMPTED);  // 1.0.0 becomes old
    // purge kills the processes on the old version and waits for their pins.
    auto report = runtime.kernel().modules().purge(spinner);
    CHECK(report.killed == std::vector<Pid>{worker});
    INFO(report.detail);
    CHECK(report.unmapped);
    CHECK(expect_message(match::tuple(atoms::DOWN, ref, match::any, match::any, match::any))[4] ==
          Term(atoms::killed));
}

TEST_CASE_METHOD(OneScheduler, "a killed loop that still makes runtime calls is unwound and not cut loose",
                 "[preemption]") {
    load(OTPP_SPINNER);
    Pid server = gen_server::start(spinner, Term()).pid();
    Ref ref = monitor(server);
    gen_server::cast(server, Atom("spin_calling"));
    REQUIRE(busiest_process() == server);
    load(OTPP_SPINNER_UNPREEMPTED);
    // The kill lands at a check; the loop's next yield_point() throws it and
    // the stack unwinds through the behaviour engine, which lets go of its
    // hold on the version: only then can purge unmap it.
    auto report = runtime.kernel().modules().purge(spinner);
    CHECK(report.killed == std::vector<Pid>{server});
    INFO(report.detail);
    CHECK(report.unmapped);
    CHECK(expect_message(match::tuple(atoms::DOWN, ref, match::any, match::any, match::any))[4] ==
          Term(atoms::killed));
}

TEST_CASE_METHOD(OneScheduler, "a plugin built with NO_PREEMPTION has no checks and still builds and loads",
                 "[preemption]") {
    CHECK(mentions_hook(OTPP_SPINNER));
    CHECK_FALSE(mentions_hook(OTPP_SPINNER_UNPREEMPTED));
    load(OTPP_SPINNER_UNPREEMPTED);
    Pid server = gen_server::start(spinner, Term()).pid();
    CHECK(gen_server::call(server, Term::tuple({count_to, 1000})) == Term(500500));
}

TEST_CASE_METHOD(OneScheduler, "the checks compute what the plain code computes", "[preemption]") {
    load(OTPP_SPINNER);
    Pid server = gen_server::start(spinner, Term()).pid();
    // Long enough to span many slices: it is preempted and resumed mid-loop.
    CHECK(gen_server::call(server, Term::tuple({count_to, 3000000}), patience) == Term(int64_t{4500001500000}));
}

TEST_CASE_METHOD(TwoSchedulers, "the hook is harmless outside a process and in a ScopedProcess", "[preemption]") {
    constexpr int calls = 100 * runtime::kCheckEvery;
    std::thread plain([] {
        for (int i = 0; i < calls; ++i) __sanitizer_cov_trace_pc();
    });
    plain.join();

    // A thread-backed process with a kill queued: the hook neither switches
    // nor cuts its thread loose; the kill takes effect at its next receive.
    std::atomic<bool> kill_sent{false}, survived_hook{false}, killed_at_receive{false};
    Pid parent = self();
    std::thread scoped([&] {
        ScopedProcess p;
        send(parent, Term::tuple({Atom("ready"), self()}));
        while (!kill_sent) std::this_thread::yield();
        for (int i = 0; i < calls; ++i) __sanitizer_cov_trace_pc();
        survived_hook = true;
        try {
            receive(patience);
        } catch (const ProcessExit& e) {
            killed_at_receive = e.reason() == Term(atoms::killed);
        }
    });
    Pid scoped_pid = expect_message(match::tuple(Atom("ready"), match::any))[1].get<Pid>();
    exit(scoped_pid, atoms::kill);
    kill_sent = true;
    scoped.join();
    CHECK(survived_hook);
    CHECK(killed_at_receive);

    // Inside a NoPreemption scope a spawned process's hook calls do nothing
    // either: with a kill queued it runs to the end of the scope, and the
    // kill takes effect at its next receive.
    std::atomic<bool> guarded_kill_sent{false}, reached_end{false};
    Pid guarded = spawn([&] {
        send(parent, Atom("in_scope"));
        {
            runtime::NoPreemption no_preemption;
            while (!guarded_kill_sent) __sanitizer_cov_trace_pc();
            for (int i = 0; i < calls; ++i) __sanitizer_cov_trace_pc();
            reached_end = true;
        }
        receive();
    });
    Ref ref = monitor(guarded);
    expect_message(match::as_pattern(Atom("in_scope")));
    exit(guarded, atoms::kill);
    guarded_kill_sent = true;
    CHECK(expect_message(match::tuple(atoms::DOWN, ref, match::any, match::any, match::any))[4] ==
          Term(atoms::killed));
    CHECK(reached_end);
}
