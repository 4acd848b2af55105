// price_cache: seed 002's DistributedPriceCache, replicated on every node.
// An update is stored here and cast to the price_cache of every connected
// node; a node that connects (nodeup) is sent everything this one knows, so
// a node that restarts empty catches up. Each price carries a version
// (one more than the one it replaces, where it was updated) and the node that
// set it: a node keeps the copy with the higher {Version, Node}, so the
// replicas converge even when two nodes update one symbol at once.
//
// One cache runs on every node (registered locally as `price_cache`):
//   call {update, Symbol, Price}   -> ok (Symbol a binary, Price a number)
//   call {get, Symbol}             -> {ok, Price} | not_found
//   call all                       -> #{Symbol => Price}
//   call {entry, Symbol}           -> {Price, Version, Node} | not_found
//   cast {replicate, Symbol, Price, Version, Node}   -- from another cache
//   info {nodeup, Node} / {nodedown, Node}           -- monitor_nodes
#include <otpp/gen_server.hpp>
#include <otpp/node.hpp>

#include <map>
#include <string>

using namespace otpp;

namespace {

const Atom update{"update"}, get{"get"}, all{"all"}, entry{"entry"}, replicate{"replicate"}, nodeup{"nodeup"},
    not_found{"not_found"}, bad_request{"bad_request"}, cache_name{"price_cache"};

struct PriceCache {
    struct Price {
        Term price;
        std::int64_t version = 0;
        Atom origin;
        OTPP_TERM_FIELDS(price, version, origin)
    };
    struct State {
        std::map<std::string, Price> prices;
        OTPP_TERM_FIELDS(prices)
    };

    static gen_server::Init<State> init(const Term&) {
        monitor_nodes(true);
        return State{};
    }

    static gen_server::CallReply handle_call(const Term& r, const gen_server::From&, State& s) {
        if (r.is_tuple(3) && r[0].is_atom(update) && r[1].is_binary() && r[2].is_number()) {
            std::string symbol = r[1].get<std::string>();
            Price p{r[2], s.prices.count(symbol) ? s.prices[symbol].version + 1 : 1, node()};
            s.prices[symbol] = p;
            for (Atom n : nodes()) send_to(n, symbol, p);
            return gen_server::reply(atoms::ok);
        }
        if (r.is_tuple(2) && r[0].is_atom(get) && r[1].is_binary()) {
            auto it = s.prices.find(r[1].get<std::string>());
            return gen_server::reply(it == s.prices.end() ? Term(not_found) : Term::tuple({atoms::ok, it->second.price}));
        }
        if (r.is_tuple(2) && r[0].is_atom(entry) && r[1].is_binary()) {
            auto it = s.prices.find(r[1].get<std::string>());
            if (it == s.prices.end()) return gen_server::reply(not_found);
            return gen_server::reply(Term::tuple({it->second.price, it->second.version, it->second.origin}));
        }
        if (r.is_atom(all)) {
            std::vector<std::pair<Term, Term>> out;
            for (const auto& [symbol, p] : s.prices) out.emplace_back(Term::binary(symbol), p.price);
            return gen_server::reply(Term::map(std::move(out)));
        }
        return gen_server::reply(Term::tuple({atoms::error, bad_request}));
    }

    static void handle_cast(const Term& m, State& s) {
        if (!(m.is_tuple(5) && m[0].is_atom(replicate) && m[1].is_binary() && m[3].is_integer() && m[4].is_atom()))
            return;
        Price incoming{m[2], m[3].get<std::int64_t>(), m[4].get<Atom>()};
        auto [it, fresh] = s.prices.try_emplace(m[1].get<std::string>(), incoming);
        if (!fresh && newer(incoming, it->second)) it->second = incoming;
    }

    static void handle_info(const Term& m, State& s) {
        // A node connected: send it everything (it keeps what is newer).
        if (m.is_tuple(2) && m[0].is_atom(nodeup))
            for (const auto& [symbol, p] : s.prices) send_to(m[1].get<Atom>(), symbol, p);
    }

private:
    static bool newer(const Price& a, const Price& b) {
        if (a.version != b.version) return a.version > b.version;
        return a.origin > b.origin;
    }
    static void send_to(Atom n, const std::string& symbol, const Price& p) {
        gen_server::cast(gen_server::NameOnNode{cache_name, n},
                         Term::tuple({replicate, Term::binary(symbol), p.price, p.version, p.origin}));
    }
};

}  // namespace

OTPP_GEN_SERVER(PriceCache, "price_cache", "1.0.0")
