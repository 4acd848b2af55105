// The calc demo plugin, loaded through the code server: a worker per request,
// a spinning worker that is found by its reductions and killed, and the
// state's term form across versions 1 -> 2 -> 3.
#include "fixture.hpp"

#include "../../host/code/module_version.hpp"

#include <otpp/term_codec.hpp>

using namespace otpp;
using namespace otpp::test;

namespace {

const Atom calc{"calc"}, sum{"sum"}, answer{"answer"};

Term sum_request(int64_t n) { return Term::tuple({sum, n}); }

Pid start_calc() {
    return gen_server::start(calc, Term(), gen_server::StartOptions{.name = calc}).pid();
}

// Calls calc from its own process, so the test can wait for the answer while
// doing other things; the answer comes back as {answer, N, Reply}.
Pid ask_later(int64_t n) {
    Pid report_to = self();
    return spawn([report_to, n] {
        send(report_to, Term::tuple({answer, n, gen_server::call(calc, sum_request(n), infinity)}));
    });
}

bool is_error(const Term& reply) { return reply.is_tuple(2) && reply[0].is_atom(atoms::error); }

}  // namespace

TEST_CASE_METHOD(TwoSchedulers, "calc 1.0.0 sums in a worker and 13 crashes only that worker", "[calc]") {
    load(OTPP_CALC_V1);
    Pid server = start_calc();
    CHECK(gen_server::call(calc, sum_request(10)) == Term::parse("{ok, 55}"));
    CHECK(gen_server::call(calc, sum_request(1)) == Term::parse("{ok, 1}"));
    Term crashed = gen_server::call(calc, sum_request(13));
    REQUIRE(is_error(crashed));
    CHECK(crashed[1].is_tuple(2));
    CHECK(crashed[1][0].is_atom(atoms::exception));
    CHECK(gen_server::call(calc, sum_request(5)) == Term::parse("{ok, 15}"));
    CHECK(whereis(calc) == server);
}

TEST_CASE_METHOD(OneScheduler, "calc 1.0.0: sum -1 spins while calc keeps answering and the spinner is found and killed",
                 "[calc]") {
    load(OTPP_CALC_V1);
    Pid server = start_calc();
    ask_later(-1);
    // One scheduler and no watchdog: calc answers only because the
    // worker's plain loop is preempted.
    Pid spinner = busiest_process();
    CHECK(spinner != server);
    CHECK(runtime.process_info(spinner)->initial_call == "calc worker");
    CHECK(gen_server::call(calc, sum_request(5)) == Term::parse("{ok, 15}"));
    CHECK(gen_server::call(calc, sum_request(10)) == Term::parse("{ok, 55}"));
    CHECK(is_process_alive(spinner));

    exit(spinner, atoms::kill);
    Term reply = expect_message(match::tuple(answer, -1, match::any))[2];
    CHECK(reply == Term::tuple({atoms::error, atoms::killed}));
    CHECK(gen_server::call(calc, sum_request(3)) == Term::parse("{ok, 6}"));
    CHECK(runtime.stats().replacement_threads == 0);
}

TEST_CASE_METHOD(TwoSchedulers, "calc 2.0.0 rejects N <= 0 and still breaks on 13 and 3.0.0 fixes 13", "[calc]") {
    load(OTPP_CALC_V2);
    start_calc();
    CHECK(gen_server::call(calc, sum_request(-1)) == Term::parse("{error, <<\"invalid input\">>}"));
    CHECK(gen_server::call(calc, sum_request(0)) == Term::parse("{error, <<\"invalid input\">>}"));
    CHECK(gen_server::call(calc, sum_request(100000)) == Term::parse("{ok, 5000050000}"));
    CHECK(is_error(gen_server::call(calc, sum_request(13))));
    gen_server::stop_server(calc);

    load(OTPP_CALC_V3);
    start_calc();
    CHECK(gen_server::call(calc, sum_request(13)) == Term::parse("{ok, 91}"));
    CHECK(gen_server::call(calc, sum_request(-5)) == Term::parse("{error, <<\"invalid input\">>}"));
}

TEST_CASE_METHOD(TwoSchedulers, "calc's state with a call in progress converts from 1.0.0 to 2.0.0 to 3.0.0",
                 "[calc]") {
    auto& modules = runtime.kernel().modules();
    auto v1 = modules.load(OTPP_CALC_V1).loaded;
    auto v2 = modules.load(OTPP_CALC_V2).loaded;
    auto callbacks = [](const auto& version) { return static_cast<const gen_server::Callbacks*>(version->callbacks); };

    gen_server::Outcome out;
    void* state1 = callbacks(v1)->init(Term(), out);
    REQUIRE(out.kind == gen_server::Outcome::ok);
    // A pending call, as the server holds one while a worker spins: the
    // worker reports to this (thread-backed) test process.
    gen_server::From from{self(), make_ref()};
    callbacks(v1)->handle_call(sum_request(-1), from, state1, out);
    CHECK(out.kind == gen_server::Outcome::noreply);
    Term as_term = callbacks(v1)->state_to_term(state1);
    REQUIRE(as_term.find(Atom("calls")));
    const Term& calls = *as_term.find(Atom("calls"));
    REQUIRE(calls.size() == 1);
    Pid worker = calls.entries().begin()->key.get<Pid>();
    CHECK(calls.entries().begin()->value.find(Atom("caller"))->find(Atom("pid"))->get<Pid>() == self());

    void* state2 = callbacks(v2)->code_change(Term::binary("1.0.0"), as_term, Term(), out);
    REQUIRE(state2);
    CHECK(callbacks(v2)->state_to_term(state2) == as_term);
    callbacks(v1)->destroy(state1);
    // The worker was spawned by this test, not by a server pinned to 1.0.0,
    // so nothing keeps 1.0.0 loaded for it: it must be gone before 1.0.0 is.
    exit(worker, atoms::kill);
    CHECK(wait_dead(worker));
    v1.reset();
    auto v3 = modules.load(OTPP_CALC_V3).loaded;
    void* state3 =
        callbacks(v3)->code_change(Term::binary("2.0.0"), callbacks(v2)->state_to_term(state2), Term(), out);
    REQUIRE(state3);
    CHECK(callbacks(v3)->state_to_term(state3) == as_term);
    callbacks(v2)->destroy(state2);
    callbacks(v3)->destroy(state3);
}
