// counter: the smallest useful GenServer — an integer to read, add to, reset.
//
//   call get            -> Value
//   call {add, N}       -> Value + N (the new value)
//   cast {add, N}       -- fire and forget
//   cast reset
#include <otpp/gen_server.hpp>

using namespace otpp;

namespace {

// Atoms are interned once, when the plugin is loaded, not on every message.
const Atom get{"get"}, add{"add"}, reset{"reset"}, bad_request{"bad_request"};

struct Counter {
    struct State {
        int64_t value = 0;
        OTPP_TERM_FIELDS(value)
    };

    static gen_server::Init<State> init(const Term& args) {
        return State{args.is_integer() ? args.get<int64_t>() : 0};
    }

    static gen_server::CallReply handle_call(const Term& request, const gen_server::From&, State& s) {
        int64_t n = 0;
        if (request.is_atom(get)) return gen_server::reply(s.value);
        if (match::tuple(add, match::bind(n))(request)) return gen_server::reply(s.value += n);
        return gen_server::reply(Term::tuple({atoms::error, bad_request}));
    }

    static void handle_cast(const Term& message, State& s) {
        int64_t n = 0;
        if (match::tuple(add, match::bind(n))(message)) s.value += n;
        else if (message.is_atom(reset)) s.value = 0;
    }
};

}  // namespace

// The tests build the same source as several versions of the module.
#ifndef COUNTER_VERSION
#define COUNTER_VERSION "1.0.0"
#endif
OTPP_GEN_SERVER(Counter, "counter", COUNTER_VERSION)
