// counter: the smallest useful GenServer, and the module the code-server
// tests and benchmarks upgrade. One source, three versions whose states
// differ, so that every upgrade really converts something:
//
//   1.x  State = #{value => N}
//   2.x  State = #{counters => #{Key => N}}        one counter per key;
//        code_change from 1: value becomes the counter <<"default">>;
//        downgrade to 1: the default counter becomes value again
//   3.x  State = #{counters => ..., ops => Count}  counts operations;
//        code_change from 1 or 2 (ops starts at 0); downgrade to 2 drops ops
//        (the default: v2's from_term ignores a field it does not know)
//
// Protocol (every version; requests and replies are terms, so a client works
// across versions):
//   call get            -> the default counter
//   call {add, N}       -> the default counter + N (the new value)
//   call {sleep, Ms}    -> ok after sleeping Ms in the callback (a long callback)
//   call spawn_helper   -> the pid of a new process running this module's code
//                          (a lambda that waits forever): it inherits the pin
//   cast {add, N}       -- fire and forget
//   cast reset
//   2.x and later:  call {get, Key}, call {add, Key, N}
//   3.x:            call ops -> operations served since 3.0 took over
//
// The build turns COUNTER_MAJOR (1..3) and COUNTER_VERSION into versions and
// COUNTER_BROKEN into the broken variants the tests need:
//   code_change_throws   code_change throws for a state whose default counter
//                        is 13 (only that process fails), or for all if
//                        COUNTER_BROKEN_ALL
//   code_change_error    code_change returns error(refused) for 13 (or all)
//   init_throws          init throws
#include <otpp/gen_server.hpp>

#include <map>
#include <stdexcept>
#include <string>

using namespace otpp;

#ifndef COUNTER_MAJOR
#define COUNTER_MAJOR 1
#endif
#ifndef COUNTER_VERSION
#define COUNTER_VERSION "1.0.0"
#endif

namespace {

// Atoms are interned once, when the plugin is loaded, not on every message.
const Atom get{"get"}, add{"add"}, reset{"reset"}, sleep_atom{"sleep"}, ops_atom{"ops"}, spawn_helper{"spawn_helper"},
    bad_request{"bad_request"}, refused{"refused"}, value_key{"value"};

[[maybe_unused]] bool broken_for(int64_t value) {
#ifdef COUNTER_BROKEN_ALL
    (void)value;
    return true;
#else
    return value == 13;
#endif
}

struct Counter {
#if COUNTER_MAJOR == 1
    struct State {
        int64_t value = 0;
        OTPP_TERM_FIELDS(value)
    };
    static int64_t& value(State& s) { return s.value; }
    static void count_op(State&) {}
#else
    struct State {
        std::map<std::string, int64_t> counters{{"default", 0}};
#if COUNTER_MAJOR >= 3
        int64_t ops = 0;
        OTPP_TERM_FIELDS(counters, ops)
#else
        OTPP_TERM_FIELDS(counters)
#endif
    };
    static int64_t& value(State& s) { return s.counters["default"]; }
#if COUNTER_MAJOR >= 3
    static void count_op(State& s) { ++s.ops; }
#else
    static void count_op(State&) {}
#endif
#endif

    static gen_server::Init<State> init(const Term& args) {
#if defined(COUNTER_BROKEN_INIT_THROWS)
        (void)args;
        throw std::runtime_error("counter " COUNTER_VERSION ": init is broken");
#else
        State s;
        value(s) = args.is_integer() ? args.get<int64_t>() : 0;
        return s;
#endif
    }

    static gen_server::CallReply handle_call(const Term& request, const gen_server::From&, State& s) {
        int64_t n = 0;
        count_op(s);
        if (request.is_atom(get)) return gen_server::reply(value(s));
        if (match::tuple(add, match::bind(n))(request)) return gen_server::reply(value(s) += n);
        if (match::tuple(sleep_atom, match::bind(n))(request)) {
            sleep_for(std::chrono::milliseconds(n));
            return gen_server::reply(atoms::ok);
        }
        if (request.is_atom(spawn_helper)) return gen_server::reply(spawn([] { receive(); }));
#if COUNTER_MAJOR >= 2
        std::string key;
        if (match::tuple(get, match::bind(key))(request)) return gen_server::reply(s.counters[key]);
        if (match::tuple(add, match::bind(key), match::bind(n))(request))
            return gen_server::reply(s.counters[key] += n);
#endif
#if COUNTER_MAJOR >= 3
        if (request.is_atom(ops_atom)) return gen_server::reply(s.ops);
#endif
        return gen_server::reply(Term::tuple({atoms::error, bad_request}));
    }

    static void handle_cast(const Term& message, State& s) {
        int64_t n = 0;
        count_op(s);
        if (match::tuple(add, match::bind(n))(message)) value(s) += n;
        else if (message.is_atom(reset)) value(s) = 0;
    }

#if COUNTER_MAJOR >= 2
    // From 1.x: #{value => N}. From 2.x (to 3.x) or a downgrade from 3.x: the
    // fields match, from_term keeps defaults for the missing ones.
    static gen_server::CodeChange<State> code_change(const Term& old_vsn, const Term& old, const Term&) {
        (void)old_vsn;
        const Term* v1_value = old.is_map() ? old.find(value_key) : nullptr;
        State s = v1_value ? State{} : from_term<State>(old);
        if (v1_value) value(s) = v1_value->get<int64_t>();
#if defined(COUNTER_BROKEN_CODE_CHANGE_THROWS)
        if (broken_for(value(s))) throw std::runtime_error("counter " COUNTER_VERSION ": cannot convert this state");
#elif defined(COUNTER_BROKEN_CODE_CHANGE_ERROR)
        if (broken_for(value(s))) return gen_server::error(refused);
#endif
        return s;
    }
#endif

#if COUNTER_MAJOR == 2
    // To 1.x: the default counter is the whole state there.
    static Term downgrade(const Term& to_vsn, const State& s, const Term&) {
        if (to_vsn.is_binary() && to_vsn.bytes().starts_with("1.")) {
            auto it = s.counters.find("default");
            return Term::map({{value_key, it == s.counters.end() ? 0 : it->second}});
        }
        return to_term(s);
    }
#endif
};

}  // namespace

OTPP_GEN_SERVER(Counter, "counter", COUNTER_VERSION)
