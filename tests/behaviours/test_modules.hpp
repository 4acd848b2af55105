// GenServer modules compiled into the tests (no plugin): the behaviour engine
// is the same for them as for loaded plugins.
#pragma once

#include <otpp/gen_server.hpp>
#include <otpp/term_codec.hpp>

#include <chrono>
#include <stdexcept>

namespace otpp::test {

// Tells the process registered as `observer`, if any.
inline void tell_observer(Term what) {
    if (auto pid = whereis(Atom("observer"))) send(*pid, std::move(what));
}

struct Counter {
    struct State {
        int64_t count = 0;
        int64_t infos = 0;
        OTPP_TERM_FIELDS(count, infos)
    };

    static gen_server::Init<State> init(const Term& args) {
        if (args.is_atom(Atom("fail"))) return gen_server::stop(Atom("init_failed"));
        if (args.is_atom(Atom("ignore"))) return gen_server::ignore();
        if (args.is_atom(Atom("throw"))) throw std::runtime_error("init threw");
        if (args.is_atom(Atom("slow"))) {
            sleep_for(std::chrono::seconds(2));
            return State{};
        }
        if (args.is_tuple(2) && args[0].is_atom(Atom("trap"))) {
            trap_exit(true);
            return State{args[1].get<int64_t>()};
        }
        return State{args.get<int64_t>()};
    }

    static gen_server::CallReply handle_call(const Term& req, const gen_server::From& from, State& s) {
        if (req.is_atom(Atom("get"))) return gen_server::reply(s.count);
        if (req.is_atom(Atom("infos"))) return gen_server::reply(s.infos);
        if (req.is_tuple(2) && req[0].is_atom(Atom("add"))) {
            s.count += req[1].get<int64_t>();
            return gen_server::reply(s.count);
        }
        if (req.is_tuple(2) && req[0].is_atom(Atom("sleep"))) {
            sleep_for(std::chrono::milliseconds(req[1].get<int64_t>()));
            return gen_server::reply(Atom("slept"));
        }
        if (req.is_atom(Atom("defer"))) {
            // Reply later, from another process.
            spawn([from] {
                sleep_for(std::chrono::milliseconds(5));
                gen_server::reply(from, Atom("deferred"));
            });
            return gen_server::noreply();
        }
        if (req.is_atom(Atom("crash"))) throw std::logic_error("asked to crash");
        if (req.is_tuple(2) && req[0].is_atom(Atom("stop"))) return gen_server::stop(req[1], Atom("stopping"));
        if (req.is_atom(Atom("idle_timeout"))) return gen_server::reply(atoms::ok, std::chrono::milliseconds(10));
        return gen_server::reply(Term::tuple({atoms::error, Atom("unknown_call")}));
    }

    static void handle_cast(const Term& msg, State& s) {
        if (msg.is_tuple(2) && msg[0].is_atom(Atom("add"))) s.count += msg[1].get<int64_t>();
        if (msg.is_atom(Atom("crash"))) throw std::runtime_error("cast crash");
    }

    static gen_server::Result handle_info(const Term& msg, State& s) {
        ++s.infos;
        if (msg.is_atom(atoms::timeout)) tell_observer(Term::tuple({Atom("idle_timeout_fired"), s.count}));
        if (msg.is_tuple(2) && msg[0].is_atom(atoms::stop)) return gen_server::stop(msg[1]);
        return gen_server::noreply();
    }

    static void terminate(const Term& reason, State& s) {
        tell_observer(Term::tuple({Atom("terminated"), reason, s.count}));
        if (s.count == -1) sleep_for(std::chrono::seconds(2));  // a child that is slow to stop
    }
};

inline constexpr ModuleDescriptor counter_module = gen_server::module<Counter>("test_counter", "1.0.0");

// A module with only the required callbacks.
struct Minimal {
    struct State {
        int64_t calls = 0;
        OTPP_TERM_FIELDS(calls)
    };
    static gen_server::Init<State> init(const Term&) { return State{}; }
    static gen_server::CallReply handle_call(const Term& req, const gen_server::From&, State&) {
        return gen_server::reply(req);
    }
};

inline constexpr ModuleDescriptor minimal_module = gen_server::module<Minimal>("test_minimal", "1.0.0");

}  // namespace otpp::test
