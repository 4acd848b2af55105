// greeter: a GenServer built out of tree, against the installed SDK.
//   call {hello, Name} -> <<"hello, Name">>   (counts greetings)
//   call count         -> N
#include <otpp/gen_server.hpp>

#include <string>

using namespace otpp;

namespace {

const Atom hello{"hello"}, count{"count"};

struct Greeter {
    struct State {
        int64_t greeted = 0;
        OTPP_TERM_FIELDS(greeted)
    };
    static gen_server::Init<State> init(const Term&) { return State{}; }
    static gen_server::CallReply handle_call(const Term& request, const gen_server::From&, State& s) {
        std::string_view name;
        if (match::tuple(hello, match::bind(name))(request)) {
            ++s.greeted;
            return gen_server::reply(Term::binary("hello, " + std::string(name)));
        }
        if (request.is_atom(count)) return gen_server::reply(s.greeted);
        return gen_server::reply(Term::tuple({atoms::error, Atom("bad_request")}));
    }
};

}  // namespace

OTPP_GEN_SERVER(Greeter, "greeter", "1.0.0")
