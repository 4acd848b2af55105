// cluster: forms the cluster by itself (libcluster's "Epmd" strategy, seed
// 002): connects to every seed node it is given, and keeps trying, so a node
// that restarts joins again.
//
//   init([Seed, ...])   seeds: node names as atoms or binaries; a name
//                       without "@host" gets this node's host
//   call nodes          -> the connected nodes, sorted
//   call global_names   -> every global name this node knows, sorted
//   info form           -- its own timer: connect to the seeds that are not
//                          connected (every second)
#include <otpp/gen_server.hpp>
#include <otpp/node.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace otpp;

namespace {

const Atom form{"form"}, nodes_atom{"nodes"}, global_names_atom{"global_names"}, bad_request{"bad_request"};

struct Cluster {
    struct State {
        std::vector<Atom> seeds;
        OTPP_TERM_FIELDS(seeds)
    };

    static gen_server::Init<State> init(const Term& args) {
        State s;
        if (!args.is_proper_list()) return gen_server::stop(Term::tuple({Atom("bad_seeds"), args}));
        std::string_view me = node().name();
        std::string host(me.substr(me.find('@') + 1));
        for (const Term& seed : args.elements()) {
            std::string n = seed.is_atom() ? std::string(seed.get<Atom>().name()) : seed.get<std::string>();
            if (n.find('@') == std::string::npos) n += "@" + host;
            if (Atom(n) != node()) s.seeds.push_back(Atom(n));
        }
        send(self(), form);
        return s;
    }

    static gen_server::CallReply handle_call(const Term& request, const gen_server::From&, State&) {
        if (request.is_atom(nodes_atom)) return gen_server::reply(sorted(nodes()));
        if (request.is_atom(global_names_atom)) return gen_server::reply(sorted(global_names()));
        return gen_server::reply(Term::tuple({atoms::error, bad_request}));
    }

    static void handle_info(const Term& message, State& s) {
        if (!message.is_atom(form)) return;
        std::vector<Atom> up = nodes();
        for (Atom seed : s.seeds)
            if (std::find(up.begin(), up.end(), seed) == up.end()) connect_node(seed);
        send_after(std::chrono::seconds(1), self(), form);
    }

private:
    static Term sorted(std::vector<Atom> atoms) {
        std::sort(atoms.begin(), atoms.end());
        std::vector<Term> out(atoms.begin(), atoms.end());
        return Term::list(std::move(out));
    }
};

}  // namespace

OTPP_GEN_SERVER(Cluster, "cluster", "1.0.0")
