// GenServer: every callback outcome, calls, casts, timeouts, deferred replies,
// server death during a call, stop.
#include "../runtime/support.hpp"
#include "test_modules.hpp"

#include <otpp/gen_server.hpp>

using namespace otpp;
using namespace otpp::test;

namespace {
struct GenServerFixture : RuntimeFixture {
    GenServerFixture() { register_name(Atom("observer"), self()); }
    Pid start_counter(Term args, gen_server::StartOptions options = {}) {
        auto r = gen_server::start(counter_module, std::move(args), options);
        REQUIRE(r.ok());
        return r.pid();
    }
};
}  // namespace

TEST_CASE_METHOD(GenServerFixture, "init outcomes: ok, stop, ignore, exception", "[gen_server]") {
    auto ok = gen_server::start(counter_module, 5);
    REQUIRE(ok.ok());
    CHECK(gen_server::call(ok.pid(), Atom("get")) == Term(5));

    auto stopped = gen_server::start(counter_module, Atom("fail"));
    CHECK(stopped.term() == Term::tuple({atoms::error, Atom("init_failed")}));

    auto ignored = gen_server::start(counter_module, Atom("ignore"));
    CHECK(ignored.ignored());

    auto threw = gen_server::start(counter_module, Atom("throw"));
    CHECK(threw.term() ==
          Term::tuple({atoms::error, Term::tuple({atoms::exception, Term::binary("std::runtime_error: init threw")})}));
    CHECK_THROWS_AS(threw.pid(), BadArg);
}

TEST_CASE_METHOD(GenServerFixture, "init that takes too long: {error, timeout}", "[gen_server]") {
    auto r = gen_server::start(counter_module, Atom("slow"), {.timeout = std::chrono::milliseconds(50)});
    CHECK(r.term() == Term::tuple({atoms::error, atoms::timeout}));
}

TEST_CASE_METHOD(GenServerFixture, "a registered name, a second start under it fails", "[gen_server]") {
    Pid pid = start_counter(1, {.name = Atom("counter_a")});
    CHECK(whereis(Atom("counter_a")) == pid);
    CHECK(gen_server::call(Atom("counter_a"), Term::tuple({Atom("add"), 2})) == Term(3));
    auto again = gen_server::start(counter_module, 1, {.name = Atom("counter_a")});
    CHECK(again.term() == Term::tuple({atoms::error, Term::tuple({Atom("already_started"), pid})}));
}

TEST_CASE_METHOD(GenServerFixture, "cast never blocks and is applied in order with calls", "[gen_server]") {
    Pid pid = start_counter(0);
    for (int i = 0; i < 100; ++i) gen_server::cast(pid, Term::tuple({Atom("add"), 1}));
    CHECK(gen_server::call(pid, Atom("get")) == Term(100));
    gen_server::cast(Atom("nobody_here"), Atom("lost"));  // no error, like OTP
}

TEST_CASE_METHOD(GenServerFixture, "deferred reply with noreply + reply(From)", "[gen_server]") {
    Pid pid = start_counter(0);
    CHECK(gen_server::call(pid, Atom("defer")) == Term(Atom("deferred")));
}

TEST_CASE_METHOD(GenServerFixture, "a call timeout exits the caller, the late reply is dropped", "[gen_server]") {
    Pid pid = start_counter(0);
    auto r = gen_server::try_call(pid, Term::tuple({Atom("sleep"), 100}), std::chrono::milliseconds(10));
    CHECK_FALSE(r.ok);
    CHECK(r.value == Term(atoms::timeout));
    // The reply arrives later; it must not land in our mailbox.
    CHECK(gen_server::call(pid, Atom("get")) == Term(0));  // waits behind the sleep
    expect_no_message(30ms);

    Pid parent = self();
    auto [caller, ref] = spawn_monitor([pid, parent] {
        gen_server::call(pid, Term::tuple({Atom("sleep"), 100}), std::chrono::milliseconds(10));
        send(parent, Atom("not_reached"));
    });
    Term down = expect_message();
    REQUIRE(down.is_tuple(5));
    Term reason = down[4];
    CHECK(reason.is_tuple(2));
    CHECK(reason[0] == Term(atoms::timeout));
    CHECK(reason[1] == Term::tuple({Atom("gen_server"), atoms::call,
                                    Term::list({pid, Term::tuple({Atom("sleep"), 100})})}));
    (void)caller;
    (void)ref;
}

TEST_CASE_METHOD(GenServerFixture, "calling a dead server or unknown name gives noproc", "[gen_server]") {
    auto r = gen_server::try_call(Atom("no_such_server"), Atom("get"));
    CHECK_FALSE(r.ok);
    CHECK(r.value == Term(atoms::noproc));
    Pid pid = start_counter(0);
    exit(pid, atoms::kill);
    REQUIRE(wait_dead(pid));
    auto dead = gen_server::try_call(pid, Atom("get"));
    CHECK(dead.value == Term(atoms::noproc));
}

TEST_CASE_METHOD(GenServerFixture, "a server dying during a call: the caller gets its reason", "[gen_server]") {
    Pid pid = start_counter(0);
    auto r = gen_server::try_call(pid, Atom("crash"));
    CHECK_FALSE(r.ok);
    CHECK(r.value == Term::tuple({atoms::exception, Term::binary("std::logic_error: asked to crash")}));
    // terminate ran with the same reason
    Term t = expect_message(match::tuple(Atom("terminated"), match::_, match::_));
    CHECK(t[1] == r.value);
}

TEST_CASE_METHOD(GenServerFixture, "stop from handle_call replies, runs terminate, exits with the reason",
                 "[gen_server]") {
    Pid pid = start_counter(7);
    Ref ref = monitor(pid);
    CHECK(gen_server::call(pid, Term::tuple({atoms::stop, Atom("enough")})) == Term(Atom("stopping")));
    CHECK(expect_message(match::tuple(Atom("terminated"), match::_, match::_)) ==
          Term::tuple({Atom("terminated"), Atom("enough"), 7}));
    CHECK(expect_message(match::tuple(atoms::DOWN, ref, match::_, match::_, match::_))[4] == Term(Atom("enough")));
}

TEST_CASE_METHOD(GenServerFixture, "handle_info: plain messages, the idle timeout, stop", "[gen_server]") {
    Pid pid = start_counter(3);
    send(pid, Atom("hello"));
    send(pid, Atom("world"));
    CHECK(gen_server::call(pid, Atom("infos")) == Term(2));
    CHECK(gen_server::call(pid, Atom("idle_timeout")) == Term(atoms::ok));
    CHECK(expect_message(match::tuple(Atom("idle_timeout_fired"), match::_)) ==
          Term::tuple({Atom("idle_timeout_fired"), 3}));
    send(pid, Term::tuple({atoms::stop, atoms::normal}));
    CHECK(expect_message(match::tuple(Atom("terminated"), match::_, match::_))[1] == Term(atoms::normal));
}

TEST_CASE_METHOD(GenServerFixture, "stop_server runs terminate and waits", "[gen_server]") {
    Pid pid = start_counter(1);
    gen_server::stop_server(pid, Atom("bye"));
    CHECK_FALSE(is_process_alive(pid));
    CHECK(expect_message(match::tuple(Atom("terminated"), match::_, match::_))[1] == Term(Atom("bye")));
}

TEST_CASE_METHOD(GenServerFixture, "a parent's exit signal runs terminate only when trapping exits",
                 "[gen_server]") {
    Pid parent = self();
    // The starter (linked parent) exits with shutdown: a trapping server
    // terminates cleanly with the same reason.
    Pid starter = spawn([parent] {
        auto r = gen_server::start(counter_module, Term::tuple({Atom("trap"), 9}), {.link = true});
        send(parent, r.pid());
        receive();
        exit(atoms::shutdown);
    });
    Pid server = expect_message().get<Pid>();
    send(starter, Atom("go"));
    CHECK(expect_message(match::tuple(Atom("terminated"), match::_, match::_)) ==
          Term::tuple({Atom("terminated"), atoms::shutdown, 9}));
    CHECK(wait_dead(server));
}

TEST_CASE_METHOD(GenServerFixture, "a module with only init and handle_call, unexpected casts are ignored",
                 "[gen_server]") {
    auto r = gen_server::start(minimal_module, atoms::undefined);
    REQUIRE(r.ok());
    gen_server::cast(r.pid(), Atom("nobody_handles_this"));
    send(r.pid(), Atom("nor_this"));
    CHECK(gen_server::call(r.pid(), Atom("echo")) == Term(Atom("echo")));
}

TEST_CASE_METHOD(GenServerFixture, "process_info names the module, its version and the callback", "[gen_server]") {
    Pid pid = start_counter(0);
    gen_server::cast(pid, Term::tuple({Atom("add"), 1}));
    CHECK(gen_server::call(pid, Atom("get")) == Term(1));
    auto info = runtime.process_info(pid);
    REQUIRE(info.has_value());
    CHECK(info->module == "test_counter");
    CHECK(info->module_version == "1.0.0");
    CHECK(info->current_callback.empty());  // idle, between callbacks
}

TEST_CASE_METHOD(GenServerFixture, "register_builtin makes a module startable by name", "[gen_server]") {
    gen_server::register_builtin(counter_module);
    auto r = gen_server::start(Atom("test_counter"), 11);
    REQUIRE(r.ok());
    CHECK(gen_server::call(r.pid(), Atom("get")) == Term(11));
    auto missing = gen_server::start(Atom("no_such_module"), 0);
    CHECK(missing.term() == Term::tuple({atoms::error, Term::tuple({Atom("no_module"), Atom("no_such_module")})}));
}

TEST_CASE("the callback table turns state into a term and back, as an upgrade will", "[gen_server][upgrade]") {
    const auto& cb = *static_cast<const gen_server::Callbacks*>(counter_module.callbacks);
    Counter::State state{41, 2};
    Term as_term = cb.state_to_term(&state);
    CHECK(as_term == Term::map({{Atom("count"), 41}, {Atom("infos"), 2}}));
    CHECK(cb.format_status(&state) == as_term);  // the default format_status
    // The default code_change: from_term, keeping defaults for missing fields
    // and ignoring fields the old version had and this one dropped.
    Term old_state = Term::map({{Atom("count"), 7}, {Atom("dropped_field"), Atom("x")}});
    gen_server::Outcome out;
    void* migrated = cb.code_change(Term::binary("0.9.0"), old_state, Term(), out);
    CHECK(out.kind == gen_server::Outcome::ok);
    CHECK(static_cast<Counter::State*>(migrated)->count == 7);
    CHECK(static_cast<Counter::State*>(migrated)->infos == 0);
    cb.destroy(migrated);
    CHECK_THROWS_AS(cb.code_change(Term::binary("0.9.0"), Term::map({{Atom("count"), Term::binary("x")}}), Term(), out),
                    BadArg);
    // The default downgrade hands the older version the state as a term.
    CHECK(cb.downgrade(Term::binary("0.9.0"), &state, Term()) == as_term);
}

TEST_CASE_METHOD(GenServerFixture, "hibernate_after: an idle server gives its stack back and still serves",
                 "[gen_server][hibernate]") {
    Pid pid = start_counter(1, {.hibernate_after = Timeout(0)});
    // Wait until it hibernated: no stack counted in its memory.
    std::optional<ProcessInfo> info;
    auto deadline = std::chrono::steady_clock::now() + patience;
    do {
        sleep_for(1ms);
        info = runtime.process_info(pid);
        REQUIRE(info.has_value());
    } while ((info->status != ProcessStatus::waiting || info->memory >= info->stack_size) &&
             std::chrono::steady_clock::now() < deadline);
    CHECK(info->memory < info->stack_size);
    // Calls, casts and infos wake it on a fresh stack; state survives.
    for (int i = 0; i < 100; ++i) gen_server::cast(pid, Term::tuple({Atom("add"), 1}));
    CHECK(gen_server::call(pid, Atom("get")) == Term(101));
    send(pid, Atom("info"));
    CHECK(gen_server::call(pid, Atom("infos")) == Term(1));
    CHECK(gen_server::call(pid, Atom("defer")) == Term(Atom("deferred")));
    // Stop and kill still reach it while it hibernates.
    Pid other = start_counter(5, {.hibernate_after = Timeout(0)});
    sleep_for(5ms);
    Ref ref = monitor(other);
    exit(other, atoms::kill);
    CHECK(expect_message(match::tuple(atoms::DOWN, ref, match::_, match::_, match::_))[4] == Term(atoms::killed));
    gen_server::stop_server(pid, Atom("done"));
    CHECK(expect_message(match::tuple(Atom("terminated"), match::_, match::_)) ==
          Term::tuple({Atom("terminated"), Atom("done"), 101}));
}

TEST_CASE_METHOD(GenServerFixture, "get_status shows module, version and state, between callbacks",
                 "[gen_server][status]") {
    Pid pid = start_counter(5, {.name = Atom("status_counter")});
    auto status = gen_server::get_status(pid);
    REQUIRE(status.has_value());
    CHECK(*status->find(Atom("pid")) == Term(pid));
    CHECK(*status->find(Atom("module")) == Term(Atom("test_counter")));
    CHECK(status->find(Atom("version"))->is_binary());
    CHECK(*status->find(Atom("state")) == Term::map({{Atom("count"), 5}, {Atom("infos"), 0}}));
    // By name too; the server keeps serving afterwards.
    CHECK(gen_server::get_status(Atom("status_counter")).has_value());
    CHECK(gen_server::call(pid, Atom("get")) == Term(5));
    // Not a GenServer, or gone: no status.
    Pid plain = spawn([] { receive(std::chrono::seconds(5)); });
    CHECK_FALSE(gen_server::get_status(plain, 100ms).has_value());
    gen_server::stop_server(pid);
    CHECK_FALSE(gen_server::get_status(pid, 100ms).has_value());
}

TEST_CASE_METHOD(GenServerFixture, "calls leave no monitor behind, whoever replies", "[gen_server][call]") {
    Pid pid = start_counter(0);
    auto settled = [&](auto&& done) {
        auto deadline = std::chrono::steady_clock::now() + patience;
        while (!done() && std::chrono::steady_clock::now() < deadline) sleep_for(1ms);
        return done();
    };
    for (int i = 0; i < 100; ++i) gen_server::call(pid, Term::tuple({Atom("add"), 1}));
    // The server replied itself: both sides dropped the monitor, no signal
    // needed (the server drops its side just after replying).
    CHECK(runtime.process_info(self())->monitors.empty());
    CHECK(settled([&] { return runtime.process_info(pid)->monitored_by.empty(); }));
    // Another process replied for it: the caller's demonitor reaches the server.
    CHECK(gen_server::call(pid, Atom("defer")) == Term(Atom("deferred")));
    CHECK(runtime.process_info(self())->monitors.empty());
    CHECK(settled([&] { return runtime.process_info(pid)->monitored_by.empty(); }));
    // And a server that dies after replying sends no stray DOWN.
    CHECK(gen_server::call(pid, Term::tuple({Atom("stop"), atoms::normal})) == Term(Atom("stopping")));
    CHECK(wait_dead(pid));
    expect_message(match::tuple(Atom("terminated"), atoms::normal, match::_));  // its terminate's report
    expect_no_message(100ms);
}
