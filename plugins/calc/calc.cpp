// calc: the demo's calculator — a GenServer that never blocks on its work.
//
//   init(_)                  registered as `calc` by whoever starts it
//   call {sum, N}            -> {ok, 1 + 2 + ... + N} | {error, Reason}
//
// Each request runs in a short-lived worker process the server spawns and
// monitors; handle_call returns noreply and the answer goes out from
// handle_info, when the worker's {calc_result, Worker, Sum} or its 'DOWN'
// arrives. So a worker that crashes or spins never stops the server from
// answering other requests, as in the Erlang demo:
//
//   1.0.0  the seed's algorithm: counts from 1 until it *equals* N, so N <= 0
//          never terminates (a plain C++ loop: the compiler-inserted checks
//          preempt it and a kill reaches it; the caller then gets
//          {error, killed}); N = 13 crashes the worker ({error, Reason}).
//   2.0.0  rejects N <= 0 with {error, <<"invalid input">>} and computes
//          N(N+1)/2; 13 still crashes the worker (the seed's second bug is
//          left in on purpose: the demo fixes it in 3.0.0).
//   3.0.0  13 works.
//
// The state is only the calls in progress (worker -> monitor and caller), so
// it converts to a term and a running server migrates 1 -> 2 -> 3. Workers
// run the version that spawned them: a spinner stays on 1.0.0 until killed.
#include <otpp/gen_server.hpp>

#include <map>
#include <stdexcept>

using namespace otpp;

#ifndef CALC_VERSION
#define CALC_VERSION "1.0.0"
#endif

namespace {

constexpr int major_version = CALC_VERSION[0] - '0';

const Atom sum{"sum"}, calc_result{"calc_result"}, bad_request{"bad_request"};

// 1.0.0's loop, written as the seed's recursion sum(I, N, Acc) reads.
// `total` is volatile so that the compiler must run the loop: it could
// otherwise replace it by a closed form, or — as it may assume a loop with
// no side effects terminates — delete the spin the demo needs for N <= 0.
int64_t count_up_to(int64_t n) {
    volatile int64_t total = 0;
    for (int64_t i = 1;; ++i) {
        total = total + i;
        if (i == n) return total;
    }
}

int64_t compute(int64_t n) {
    if (n == 13 && major_version < 3) throw std::domain_error("13 is unlucky");
    if (major_version < 2) return count_up_to(n);
    return n * (n + 1) / 2;
}

struct Calc {
    struct Call {
        Ref monitor;
        gen_server::From caller;
        OTPP_TERM_FIELDS(monitor, caller)
    };
    struct State {
        std::map<Pid, Call> calls;  // by worker
        OTPP_TERM_FIELDS(calls)
    };

    static gen_server::Init<State> init(const Term&) { return State{}; }

    static gen_server::CallReply handle_call(const Term& request, const gen_server::From& from, State& s) {
        int64_t n = 0;
        if (!match::tuple(sum, match::bind(n))(request))
            return gen_server::reply(Term::tuple({atoms::error, bad_request}));
        if (n <= 0 && major_version >= 2)
            return gen_server::reply(Term::tuple({atoms::error, Term::binary("invalid input")}));
        const Pid server = self();
        auto [worker, monitor] = spawn_monitor(
            [server, n] { send(server, Term::tuple({calc_result, self(), compute(n)})); },
            SpawnOptions{.label = "calc worker"});
        s.calls.emplace(worker, Call{monitor, from});
        return gen_server::noreply();
    }

    static void handle_info(const Term& message, State& s) {
        Pid worker;
        int64_t total = 0;
        Ref monitor;
        Term reason;
        if (match::tuple(calc_result, match::bind(worker), match::bind(total))(message)) {
            auto it = s.calls.find(worker);
            if (it == s.calls.end()) return;
            demonitor(it->second.monitor, Flush::yes);
            answer(it, Term::tuple({atoms::ok, total}), s);
        } else if (match::tuple(atoms::DOWN, match::bind(monitor), atoms::process, match::bind(worker),
                                match::bind(reason))(message)) {
            auto it = s.calls.find(worker);
            if (it == s.calls.end() || it->second.monitor != monitor) return;
            answer(it, Term::tuple({atoms::error, reason}), s);
        }
    }

private:
    static void answer(std::map<Pid, Call>::iterator it, Term value, State& s) {
        gen_server::reply(it->second.caller, std::move(value));
        s.calls.erase(it);
    }
};

}  // namespace

OTPP_GEN_SERVER(Calc, "calc", CALC_VERSION)
