// ticker: timers and handle_info — counts ticks at a fixed interval.
//
//   init(IntervalMs)
//   call count               -> ticks so far
//   call {interval, Ms}      -> ok (takes effect from the next tick)
//   info tick                -- its own timer message
#include <otpp/gen_server.hpp>

using namespace otpp;

namespace {

const Atom tick{"tick"}, count{"count"}, interval{"interval"}, bad_request{"bad_request"};

struct Ticker {
    struct State {
        int64_t ticks = 0;
        int64_t interval_ms = 1000;
        OTPP_TERM_FIELDS(ticks, interval_ms)
    };

    static gen_server::Init<State> init(const Term& args) {
        State s;
        if (args.is_integer()) s.interval_ms = args.get<int64_t>();
        if (s.interval_ms < 1) return gen_server::stop(Term::tuple({Atom("bad_interval"), args}));
        arm(s);
        return s;
    }

    static gen_server::CallReply handle_call(const Term& request, const gen_server::From&, State& s) {
        int64_t ms = 0;
        if (request.is_atom(count)) return gen_server::reply(s.ticks);
        if (match::tuple(interval, match::bind(ms))(request) && ms >= 1) {
            s.interval_ms = ms;
            return gen_server::reply(atoms::ok);
        }
        return gen_server::reply(Term::tuple({atoms::error, bad_request}));
    }

    static void handle_info(const Term& message, State& s) {
        if (!message.is_atom(tick)) return;
        ++s.ticks;
        arm(s);
    }

private:
    static void arm(const State& s) { send_after(std::chrono::milliseconds(s.interval_ms), self(), tick); }
};

}  // namespace

OTPP_GEN_SERVER(Ticker, "ticker", "1.0.0")
