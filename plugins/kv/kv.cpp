// kv: a key-value store — map state, calls and casts.
//
//   call {get, Key}          -> {ok, Value} | not_found
//   call {put, Key, Value}   -> ok
//   call {delete, Key}       -> ok
//   call keys                -> [Key] (sorted)
//   call size                -> N
//   cast {put, Key, Value}
// Keys and values are any terms.
#include <otpp/gen_server.hpp>

#include <map>

using namespace otpp;

namespace {

const Atom get{"get"}, put{"put"}, del{"delete"}, keys{"keys"}, size{"size"}, not_found{"not_found"},
    bad_request{"bad_request"};

struct Kv {
    struct State {
        std::map<Term, Term> data;
        OTPP_TERM_FIELDS(data)
    };

    static gen_server::Init<State> init(const Term& args) {
        State s;
        if (args.is_map())
            for (const auto& e : args.entries()) s.data.emplace(e.key, e.value);
        return s;
    }

    static gen_server::CallReply handle_call(const Term& request, const gen_server::From&, State& s) {
        Term key, value;
        if (match::tuple(get, match::bind(key))(request)) {
            auto it = s.data.find(key);
            return gen_server::reply(it == s.data.end() ? Term(not_found) : Term::tuple({atoms::ok, it->second}));
        }
        if (match::tuple(put, match::bind(key), match::bind(value))(request)) {
            s.data.insert_or_assign(key, value);
            return gen_server::reply(atoms::ok);
        }
        if (match::tuple(del, match::bind(key))(request)) {
            s.data.erase(key);
            return gen_server::reply(atoms::ok);
        }
        if (request.is_atom(keys)) {
            std::vector<Term> out;
            for (auto& [k, v] : s.data) out.push_back(k);
            return gen_server::reply(Term::list(out));
        }
        if (request.is_atom(size)) return gen_server::reply(static_cast<int64_t>(s.data.size()));
        return gen_server::reply(Term::tuple({atoms::error, bad_request}));
    }

    static void handle_cast(const Term& message, State& s) {
        Term key, value;
        if (match::tuple(put, match::bind(key), match::bind(value))(message)) s.data.insert_or_assign(key, value);
    }
};

}  // namespace

OTPP_GEN_SERVER(Kv, "kv", "1.0.0")
