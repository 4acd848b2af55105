// spinner: a GenServer whose work is a plain C++ loop with no runtime call in
// it, for the preemption tests (tests/preemption). Built twice: with the
// compiler-inserted checks (1.0.0) and with NO_PREEMPTION (1.0.1, so that
// both can be loaded, one after the other, as two versions of a module).
//
//   call {count_to, N}   -> 1 + 2 + ... + N, counted one by one
//   call spawn_spinner   -> Pid of a new process (not linked) looping forever
//   cast spin            -- loops forever in the server's own process
//   cast spin_calling    -- the same, with a runtime call (yield_point) every
//                           1000 turns: a kill then unwinds it normally
//   call swallow_then_spin -> Pid of a new process that waits in receive,
//                           swallows the exit a kill throws there (what the SDK
//                           forbids), then loops forever: it must still die
#include <otpp/gen_server.hpp>

using namespace otpp;

namespace {

const Atom count_to{"count_to"}, spin{"spin"}, spawn_spinner{"spawn_spinner"}, spin_calling{"spin_calling"},
    swallow_then_spin{"swallow_then_spin"}, bad_request{"bad_request"};

// volatile: the compiler must neither fold the loop nor drop the endless one.
int64_t count_up(int64_t n) {
    volatile int64_t total = 0;
    for (int64_t i = 1; i <= n; ++i) total = total + i;
    return total;
}

[[noreturn]] void loop_forever() {
    volatile uint64_t turns = 0;
    for (;;) turns = turns + 1;
}

[[noreturn]] void loop_forever_calling_runtime() {
    volatile uint64_t turns = 0;
    for (;;) {
        turns = turns + 1;
        if (turns % 1000 == 0) yield_point();
    }
}

struct Spinner {
    struct State {
        OTPP_TERM_FIELDS()
    };
    static gen_server::Init<State> init(const Term&) { return State{}; }
    static gen_server::CallReply handle_call(const Term& request, const gen_server::From&, State&) {
        int64_t n = 0;
        if (match::tuple(count_to, match::bind(n))(request)) return gen_server::reply(count_up(n));
        if (request.is_atom(spawn_spinner)) return gen_server::reply(spawn([] { loop_forever(); }));
        if (request.is_atom(swallow_then_spin))
            return gen_server::reply(spawn([] {
                try {
                    receive();
                } catch (...) {  // swallows its kill: forbidden, and must not make it immortal
                }
                loop_forever();
            }));
        return gen_server::reply(Term::tuple({atoms::error, bad_request}));
    }
    static void handle_cast(const Term& message, State&) {
        if (message.is_atom(spin)) loop_forever();
        if (message.is_atom(spin_calling)) loop_forever_calling_runtime();
    }
};

}  // namespace

#ifndef SPINNER_VERSION
#define SPINNER_VERSION "1.0.0"
#endif
OTPP_GEN_SERVER(Spinner, "spinner", SPINNER_VERSION)
