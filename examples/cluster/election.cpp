// election: leader election with a global name (seed 002). Exactly one node
// is the leader at any moment: the one whose election server holds the
// global name `leader`. The others monitor that process; when it dies or
// its node goes down (the monitor fires with noconnection) they try to take
// the name, and the registry lets exactly one of them have it.
//
// One election server runs on every node (registered locally as `election`):
//   call status   -> #{node => Node, leader => LeaderNode | undefined,
//                      leading => true | false, won => TimesThisNodeWon}
//   info elect    -- its own: try to become the leader
// Two partitions that each elected a leader and then merge keep one (the
// registry's conflict rule): the other is told with an exit signal
// {global_name_conflict, leader}, which this server traps, and follows.
#include <otpp/gen_server.hpp>
#include <otpp/node.hpp>

#include <optional>

using namespace otpp;

namespace {

const Atom leader{"leader"}, elect{"elect"}, status{"status"}, node_atom{"node"},
    leading_atom{"leading"}, won_atom{"won"}, conflict{"global_name_conflict"}, bad_request{"bad_request"};

struct Election {
    struct State {
        bool leading = false;
        std::int64_t won = 0;
        std::optional<Ref> watching;  // the monitor on the current leader
        OTPP_TERM_FIELDS(leading, won, watching)
    };

    static gen_server::Init<State> init(const Term&) {
        trap_exit(true);  // the conflict rule's notice is an exit signal
        send(self(), elect);
        return State{};
    }

    static gen_server::CallReply handle_call(const Term& r, const gen_server::From&, State& s) {
        if (r.is_atom(status)) {
            auto l = whereis_global(leader);
            return gen_server::reply(Term::map({{node_atom, node()},
                                                {leader, l ? Term(node(*l)) : Term(atoms::undefined)},
                                                {leading_atom, s.leading},
                                                {won_atom, s.won}}));
        }
        return gen_server::reply(Term::tuple({atoms::error, bad_request}));
    }

    static void handle_info(const Term& m, State& s) {
        if (m.is_atom(elect)) return try_to_lead(s);
        // The leader we watched is gone (died, or its node did: noconnection).
        if (m.is_tuple(5) && m[0].is_atom(atoms::DOWN) && s.watching && m[1] == Term(*s.watching)) {
            s.watching.reset();
            return try_to_lead(s);
        }
        // We lost the name to the other side of a merge.
        if (m.is_tuple(3) && m[0].is_atom(atoms::EXIT) && m[2].is_tuple(2) && m[2][0].is_atom(conflict)) {
            s.leading = false;
            return try_to_lead(s);
        }
    }

private:
    static void try_to_lead(State& s) {
        if (s.leading || s.watching) return;
        if (register_global(leader, self())) {
            s.leading = true;
            ++s.won;
            return;
        }
        if (auto current = whereis_global(leader)) {
            s.watching = monitor(*current);
            return;
        }
        // Taken somewhere yet unknown here, or a node still forgets a leader
        // that went down: look again shortly.
        send_after(std::chrono::milliseconds(50), self(), elect);
    }
};

}  // namespace

OTPP_GEN_SERVER(Election, "election", "1.0.0")
