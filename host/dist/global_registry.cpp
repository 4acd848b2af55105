#include "global_registry.hpp"

#include <otpp/error.hpp>
#include <otpp/node.hpp>
#include <otpp/process.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <set>
#include <thread>

namespace otpp::dist {

namespace {

// The server's name on every otpp node.
const Atom server_atom("otpp_global");

// Between servers (all tuples; Node is the sender's node):
//   {global_hello, Vsn, Server, Node, [{Name, Pid, Since}], [PeerNode]}
//   {global_add, Node, Name, Pid, Since, Holder, Ref}   Holder/Ref: a registrar to ack, or undefined
//   {global_remove, Node, Name, Pid, Holder, Ref}
//   {global_lock, Name, Holder, Ref}   -> Holder ! {global_lock_reply, Ref, Node, granted | busy, Known}
//   {global_unlock, Name, Holder}
//   {global_peers, Node, [PeerNode]}    a node that just joined Node: connect to it too
// From a registrar to its own server:
//   {global_commit, add | remove, Name, Pid, Holder, Ref}
//       -> Holder ! {global_ack, Ref, Node} from every node that applied it,
//          or Holder ! {global_refused, Ref} from the owner
// From a caller to the owner's server, answered by the registrar:
//   {global_request, add | remove, Name, Pid, ReplyTo, Ref}
//       -> ReplyTo ! {global_reply, Ref, true | false | {error, Reason}}
const Atom hello_atom("global_hello"), add_atom("global_add"), remove_atom("global_remove"),
    lock_atom("global_lock"), unlock_atom("global_unlock"), lock_reply_atom("global_lock_reply"),
    commit_atom("global_commit"), ack_atom("global_ack"), refused_atom("global_refused"),
    request_atom("global_request"), reply_atom("global_reply"), peers_atom("global_peers");
const Atom add_op("add"), remove_op("remove"), granted_atom("granted"), busy_atom("busy"), go_atom("go"),
    nodeup_atom("nodeup"), nodedown_atom("nodedown"), conflict_atom("global_name_conflict"),
    lock_timeout_atom("lock_timeout"), connected_atom("global_connected");
constexpr std::int64_t protocol_version = 1;

using Clock = std::chrono::steady_clock;

Timeout left(Clock::time_point deadline) {
    auto d = std::chrono::duration_cast<Timeout>(deadline - Clock::now());
    return d.count() > 0 ? d : Timeout(0);
}

bool is_down(const Term& m, Ref mon) { return m.is_tuple(5) && m[0].is_atom(atoms::DOWN) && m[1] == Term(mon); }

std::vector<GlobalTable::Registration> entries_of(const Term& list) {
    std::vector<GlobalTable::Registration> out;
    for (const Term& e : list.elements())
        if (e.is_tuple(3) && e[0].is_atom() && e[1].is_pid() && e[2].is_integer())
            out.push_back({e[0].get<Atom>(), e[1].get<Pid>(), e[2].get<std::int64_t>()});
    return out;
}

// Now, for `since`: µs since the Unix epoch (a wall clock: it is compared
// across nodes).
std::int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

// ---------------------------------------------------------------- GlobalTable

bool GlobalTable::precedes(const Entry& a, const Entry& b) noexcept {
    if (a.since != b.since) return a.since < b.since;
    if (auto c = a.owner <=> b.owner; c != 0) return c < 0;
    if (a.pid.serial != b.pid.serial) return a.pid.serial < b.pid.serial;
    return a.pid.id < b.pid.id;
}

std::optional<GlobalTable::Entry> GlobalTable::best_of(const std::vector<Entry>& candidates) {
    if (candidates.empty()) return std::nullopt;
    return *std::min_element(candidates.begin(), candidates.end(), precedes);
}

std::optional<GlobalTable::Entry> GlobalTable::best(Atom name) const {
    std::lock_guard lock(mutex_);
    auto it = names_.find(name);
    return it == names_.end() ? std::nullopt : best_of(it->second);
}

std::optional<Pid> GlobalTable::whereis(Atom name) const {
    auto e = best(name);
    return e ? std::optional<Pid>(e->pid) : std::nullopt;
}

std::vector<Atom> GlobalTable::names() const {
    std::lock_guard lock(mutex_);
    std::vector<Atom> out;
    for (const auto& [name, candidates] : names_) out.push_back(name);
    return out;
}

std::optional<Pid> GlobalTable::own(Atom name) const {
    std::lock_guard lock(mutex_);
    auto it = names_.find(name);
    if (it == names_.end()) return std::nullopt;
    for (const Entry& e : it->second)
        if (e.owner == self_) return e.pid;
    return std::nullopt;
}

std::vector<GlobalTable::Registration> GlobalTable::own_entries() const {
    std::lock_guard lock(mutex_);
    std::vector<Registration> out;
    for (const auto& [name, candidates] : names_)
        for (const Entry& e : candidates)
            if (e.owner == self_) out.push_back({name, e.pid, e.since});
    return out;
}

void GlobalTable::set(Atom name, Entry e) {
    std::lock_guard lock(mutex_);
    auto& candidates = names_[name];
    for (Entry& c : candidates)
        if (c.owner == e.owner) {
            c = e;
            return;
        }
    candidates.push_back(e);
}

bool GlobalTable::erase(Atom name, Atom owner, Pid pid) {
    std::lock_guard lock(mutex_);
    auto it = names_.find(name);
    if (it == names_.end()) return false;
    auto& candidates = it->second;
    auto c = std::find_if(candidates.begin(), candidates.end(),
                          [&](const Entry& e) { return e.owner == owner && e.pid == pid; });
    if (c == candidates.end()) return false;
    candidates.erase(c);
    if (candidates.empty()) names_.erase(it);
    return true;
}

std::vector<Atom> GlobalTable::replace_owner(Atom owner, const std::vector<Registration>& entries) {
    std::lock_guard lock(mutex_);
    for (auto it = names_.begin(); it != names_.end();) {
        std::erase_if(it->second, [&](const Entry& e) { return e.owner == owner; });
        it = it->second.empty() ? names_.erase(it) : std::next(it);
    }
    std::vector<Atom> touched;
    for (const Registration& r : entries) {
        auto& candidates = names_[r.name];
        std::erase_if(candidates, [&](const Entry& e) { return e.owner == owner; });
        candidates.push_back(Entry{r.pid, owner, r.since});
        touched.push_back(r.name);
    }
    return touched;
}

void GlobalTable::drop_owner(Atom owner) { replace_owner(owner, {}); }

void GlobalTable::set_peer(Atom node, Pid server) {
    std::lock_guard lock(mutex_);
    peers_[node] = server;
}

void GlobalTable::drop_peer(Atom node) {
    std::lock_guard lock(mutex_);
    peers_.erase(node);
}

std::optional<Pid> GlobalTable::peer(Atom node) const {
    std::lock_guard lock(mutex_);
    auto it = peers_.find(node);
    return it == peers_.end() ? std::nullopt : std::optional<Pid>(it->second);
}

std::vector<std::pair<Atom, Pid>> GlobalTable::peers() const {
    std::lock_guard lock(mutex_);
    return {peers_.begin(), peers_.end()};
}

// ---------------------------------------------------------------- the registrar

namespace {

// Locks `name` at every otpp node, checks, commits through `server` (this
// node's), waits for every locked node to apply. The reply term.
class Registrar {
public:
    Registrar(std::shared_ptr<GlobalRegistry> reg, Pid server, Atom op, Atom name, Pid pid)
        : reg_(std::move(reg)), server_(server), op_(op), name_(name), pid_(pid) {}

    Term run() {
        GlobalTable& table = reg_->table();
        const auto deadline = Clock::now() + reg_->options().lock_timeout;
        std::minstd_rand random(static_cast<unsigned>(self().id * 7919u + self().serial) ^
                                static_cast<unsigned>(Clock::now().time_since_epoch().count()));
        for (int attempt = 0;; ++attempt) {
            // Every otpp node we know, ourselves included, in node-name order.
            auto targets = table.peers();
            targets.emplace_back(table.self(), server_);
            std::sort(targets.begin(), targets.end());
            bool busy = false, known = false;
            for (const auto& [node, server] : targets) {
                Ref mon = monitor(server);
                Ref ref = make_ref();
                send(server, Term::tuple({lock_atom, name_, self(), ref}));
                auto m = receive(
                    [&](const Term& t) {
                        return (t.is_tuple(5) && t[0].is_atom(lock_reply_atom) && t[1] == Term(ref)) ||
                               is_down(t, mon);
                    },
                    left(deadline));
                if (!m) {
                    demonitor(mon, Flush::yes);
                    unlock_all();
                    return Term::tuple({atoms::error, lock_timeout_atom});
                }
                if (is_down(*m, mon)) continue;  // that node is gone: it takes no part
                if ((*m)[3].is_atom(busy_atom)) {
                    demonitor(mon, Flush::yes);
                    busy = true;
                    break;
                }
                held_.push_back(Held{node, server, mon});
                if ((*m)[4].is_pid()) known = true;
            }
            if (busy) {
                unlock_all();
                if (Clock::now() >= deadline) return Term::tuple({atoms::error, lock_timeout_atom});
                int cap = 1 << std::min(attempt + 1, 6);  // 2 .. 64 ms
                sleep_for(Timeout(1 + static_cast<int>(random() % static_cast<unsigned>(cap))));
                continue;
            }
            // Locked wherever we could reach. Decide, then commit.
            bool go = op_ == add_op ? !known : table.own(name_) == pid_;
            if (!go) {
                unlock_all();
                return Term(false);
            }
            Ref cref = make_ref();
            send(server_, Term::tuple({commit_atom, op_, name_, pid_, self(), cref}));
            std::set<Atom> waiting;
            for (const Held& h : held_) waiting.insert(h.node);
            const auto ack_deadline = Clock::now() + reg_->options().lock_timeout;
            while (!waiting.empty()) {
                auto m = receive(
                    [&](const Term& t) {
                        if ((t.is_tuple(3) && t[0].is_atom(ack_atom) && t[1] == Term(cref)) ||
                            (t.is_tuple(2) && t[0].is_atom(refused_atom) && t[1] == Term(cref)))
                            return true;
                        if (t.is_tuple(5) && t[0].is_atom(atoms::DOWN))
                            for (const Held& h : held_)
                                if (t[1] == Term(h.mon)) return true;
                        return false;
                    },
                    left(ack_deadline));
                if (!m) {
                    spdlog::warn("global: {} of {}: no acknowledgement from {} node(s) in time", op_.name(),
                                 to_string(name_), waiting.size());
                    break;
                }
                if ((*m)[0].is_atom(refused_atom)) {
                    unlock_all();
                    return Term(false);
                }
                if ((*m)[0].is_atom(ack_atom)) {
                    waiting.erase((*m)[2].get<Atom>());
                } else {
                    for (const Held& h : held_)
                        if ((*m)[1] == Term(h.mon)) waiting.erase(h.node);
                }
            }
            return Term(true);
        }
    }

private:
    struct Held {
        Atom node;
        Pid server;
        Ref mon;
    };

    void unlock_all() {
        for (const Held& h : held_) {
            send(h.server, Term::tuple({unlock_atom, name_, self()}));
            demonitor(h.mon, Flush::yes);
        }
        held_.clear();
    }

    std::shared_ptr<GlobalRegistry> reg_;
    Pid server_;
    Atom op_, name_;
    Pid pid_;
    std::vector<Held> held_;
};

// ---------------------------------------------------------------- the server

class Server {
public:
    explicit Server(std::shared_ptr<GlobalRegistry> reg) : reg_(std::move(reg)), table_(reg_->table()) {}

    void run() {
        receive([](const Term& t) { return t.is_atom(go_atom); });
        for (Atom n : nodes()) nodeup(n);
        for (;;) {
            Term m = receive();
            try {
                handle(m);
            } catch (const std::exception& e) {
                spdlog::warn("otpp_global: ignored {}: {}", m.to_string(300), e.what());
            }
        }
    }

private:
    struct LocalName {
        Atom name;
        Pid pid;
    };
    struct Lock {
        Pid holder;
        Ref mon;
    };
    struct Pending {
        Pid reply_to;
        Ref req;
    };

    Atom me() const { return table_.self(); }

    void handle(const Term& m) {
        if (m.is_tuple(2) && m[0].is_atom(nodeup_atom)) return nodeup(m[1].get<Atom>());
        if (m.is_tuple(2) && m[0].is_atom(nodedown_atom)) return nodedown(m[1].get<Atom>());
        if (m.is_tuple(5) && m[0].is_atom(atoms::DOWN)) return down(m[1].get<Ref>(), m[4]);
        if (m.is_tuple(3) && m[0].is_atom(connected_atom)) {
            connecting_.erase(m[1].get<Atom>());
            return;
        }
        if (!m.is_tuple() || m.size() < 3 || !m[0].is_atom()) return;
        Atom tag = m[0].get<Atom>();
        if (tag == lock_atom && m.is_tuple(4)) return lock(m[1].get<Atom>(), m[2].get<Pid>(), m[3]);
        if (tag == unlock_atom && m.is_tuple(3)) return release(m[1].get<Atom>(), m[2]);
        if (tag == add_atom && m.is_tuple(7)) {
            Atom owner = m[1].get<Atom>(), name = m[2].get<Atom>();
            table_.set(name, GlobalTable::Entry{m[3].get<Pid>(), owner, m[4].get<std::int64_t>()});
            applied(name, m[5], m[6]);
            return resolve(name);
        }
        if (tag == remove_atom && m.is_tuple(6)) {
            table_.erase(m[2].get<Atom>(), m[1].get<Atom>(), m[3].get<Pid>());
            return applied(m[2].get<Atom>(), m[4], m[5]);
        }
        if (tag == hello_atom && m.is_tuple(6)) return hello(m[2].get<Pid>(), m[3].get<Atom>(), m[4], m[5]);
        if (tag == peers_atom && m.is_tuple(3)) return meet(m[2]);
        if (tag == commit_atom && m.is_tuple(6))
            return commit(m[1].get<Atom>(), m[2].get<Atom>(), m[3].get<Pid>(), m[4].get<Pid>(), m[5]);
        if (tag == request_atom && m.is_tuple(6))
            return start_registrar(m[1].get<Atom>(), m[2].get<Atom>(), m[3].get<Pid>(), m[4].get<Pid>(),
                                   m[5].get<Ref>());
    }

    // ------------------------------------------------------------ membership

    Term hello_message() const {
        std::vector<Term> own, peers;
        for (const auto& r : table_.own_entries()) own.push_back(Term::tuple({r.name, r.pid, r.since}));
        for (const auto& [node, server] : table_.peers()) peers.push_back(node);
        return Term::tuple({hello_atom, protocol_version, self(), me(), Term::list(std::move(own)),
                            Term::list(std::move(peers))});
    }

    void nodeup(Atom node) {
        if (node == me()) return;
        told_.insert(node);
        send(server_atom, node, hello_message());
    }

    void nodedown(Atom node) {
        told_.erase(node);
        table_.drop_peer(node);
        table_.drop_owner(node);
        // Locks its registrars held go with their monitors (noconnection).
    }

    void hello(Pid server, Atom node, const Term& entries, const Term& peers) {
        if (node == me()) return;
        bool joined = !table_.peer(node);
        table_.set_peer(node, server);
        for (Atom name : table_.replace_owner(node, entries_of(entries))) resolve(name);
        meet(peers);
        // The mesh, the other way: the nodes we already know hear of the
        // newcomer (our hellos to them may have gone before it joined).
        if (joined) {
            Term news = Term::tuple({peers_atom, me(), Term::list({node})});
            std::set<Atom> to = told_;
            for (const auto& [n, s] : table_.peers()) to.insert(n);
            to.erase(node);
            for (Atom n : to) send(server_atom, n, news);
        }
    }

    // The mesh: connect to the otpp nodes a peer knows and we do not; their
    // nodeup starts the hellos. Each connect runs in a process of its own
    // (connect_node blocks), which reports back when it is done.
    void meet(const Term& peers) {
        for (const Term& p : peers.elements()) {
            if (!p.is_atom()) continue;
            Atom n = p.get<Atom>();
            if (n == me() || told_.count(n) || table_.peer(n) || connecting_.count(n)) continue;
            connecting_.insert(n);
            Pid server = self();
            spawn([server, n] { send(server, Term::tuple({connected_atom, n, connect_node(n)})); },
                  SpawnOptions{.label = "otpp_global connect"});
        }
    }

    // Every node that must hear about our own registrations: those we said
    // hello to and those that said hello to us (whose nodeup may still be
    // on its way).
    void broadcast(const Term& message) {
        std::set<Atom> to = told_;
        for (const auto& [node, server] : table_.peers()) to.insert(node);
        for (Atom n : to) send(server_atom, n, message);
    }

    // ------------------------------------------------------------ locks

    void lock(Atom name, Pid holder, const Term& ref) {
        auto it = locks_.find(name);
        bool granted = it == locks_.end() || it->second.holder == holder;
        if (it == locks_.end()) {
            Ref mon = monitor(holder);
            locks_.emplace(name, Lock{holder, mon});
            lock_mons_.emplace(mon, name);
        }
        auto known = table_.whereis(name);
        send(holder, Term::tuple({lock_reply_atom, ref, me(), granted ? granted_atom : busy_atom,
                                  known ? Term(*known) : Term(atoms::undefined)}));
    }

    void release(Atom name, const Term& holder) {
        auto it = locks_.find(name);
        if (it == locks_.end() || !holder.is_pid() || it->second.holder != holder.get<Pid>()) return;
        demonitor(it->second.mon, Flush::yes);
        lock_mons_.erase(it->second.mon);
        locks_.erase(it);
    }

    // An add or remove from the owner was applied: release the registrar's
    // lock here and tell it.
    void applied(Atom name, const Term& holder, const Term& ref) {
        release(name, holder);
        if (holder.is_pid()) send(holder.get<Pid>(), Term::tuple({ack_atom, ref, me()}));
    }

    // ------------------------------------------------------------ our own registrations

    void start_registrar(Atom op, Atom name, Pid pid, Pid reply_to, Ref req) {
        auto reg = reg_;
        Pid server = self();
        auto [helper, mon] = spawn_monitor(
            [reg, server, op, name, pid, reply_to, req] {
                Term result = Registrar(reg, server, op, name, pid).run();
                send(reply_to, Term::tuple({reply_atom, req, result}));
            },
            SpawnOptions{.label = "otpp_global registrar"});
        (void)helper;
        registrars_.emplace(mon, Pending{reply_to, req});
    }

    void commit(Atom op, Atom name, Pid pid, Pid holder, const Term& ref) {
        if (op == add_op) {
            if (table_.best(name) || (pid.node == 0 && !is_process_alive(pid))) {
                send(holder, Term::tuple({refused_atom, ref}));
                return;
            }
            const std::int64_t since = now_us();
            table_.set(name, GlobalTable::Entry{pid, me(), since});
            Ref mon = monitor(pid);
            local_.emplace(mon, LocalName{name, pid});
            broadcast(Term::tuple({add_atom, me(), name, pid, since, holder, ref}));
        } else {
            if (table_.own(name) != pid) {
                send(holder, Term::tuple({refused_atom, ref}));
                return;
            }
            drop_own(name, pid, holder, ref);
        }
        applied(name, holder, ref);
    }

    // Removes our own registration of `name` and tells everybody.
    void drop_own(Atom name, Pid pid, const Term& holder, const Term& ref) {
        for (auto it = local_.begin(); it != local_.end(); ++it)
            if (it->second.name == name && it->second.pid == pid) {
                demonitor(it->first, Flush::yes);
                local_.erase(it);
                break;
            }
        if (table_.erase(name, me(), pid)) broadcast(Term::tuple({remove_atom, me(), name, pid, holder, ref}));
    }

    // The conflict rule, for our own candidate: if another node's wins, ours
    // goes, and its process is told with an exit signal.
    void resolve(Atom name) {
        auto own = table_.own(name);
        auto best = table_.best(name);
        if (!own || !best || best->owner == me()) return;
        spdlog::warn("global: name conflict for {}: {} on {} wins; {} unregistered and sent "
                     "{{global_name_conflict, {}}}",
                     to_string(name), to_string(best->pid), best->owner.name(), to_string(*own), to_string(name));
        drop_own(name, *own, Term(atoms::undefined), Term(atoms::undefined));
        otpp::exit(*own, Term::tuple({conflict_atom, name}));
    }

    void down(Ref mon, const Term& reason) {
        if (auto it = local_.find(mon); it != local_.end()) {
            LocalName n = it->second;
            local_.erase(it);
            if (table_.erase(n.name, me(), n.pid))
                broadcast(Term::tuple({remove_atom, me(), n.name, n.pid, atoms::undefined, atoms::undefined}));
            return;
        }
        if (auto it = lock_mons_.find(mon); it != lock_mons_.end()) {
            locks_.erase(it->second);
            lock_mons_.erase(it);
            return;
        }
        if (auto it = registrars_.find(mon); it != registrars_.end()) {
            // A registrar that ended normally has answered.
            if (!reason.is_atom(atoms::normal))
                send(it->second.reply_to, Term::tuple({reply_atom, it->second.req, Term::tuple({atoms::error, reason})}));
            registrars_.erase(it);
        }
    }

    std::shared_ptr<GlobalRegistry> reg_;
    GlobalTable& table_;
    std::set<Atom> told_;        // nodes we said hello to since their nodeup
    std::set<Atom> connecting_;  // nodes a connect process of ours is connecting to (the mesh)
    std::map<Ref, LocalName> local_;  // our own registrations, by their monitor
    std::map<Atom, Lock> locks_;
    std::map<Ref, Atom> lock_mons_;
    std::map<Ref, Pending> registrars_;
};

}  // namespace

// ---------------------------------------------------------------- GlobalRegistry

GlobalRegistry::GlobalRegistry(Atom self_node, GlobalOptions options) : table_(self_node), options_(options) {}

Pid GlobalRegistry::start(const std::function<void(Pid)>& subscribe) {
    auto self_ptr = shared_from_this();
    Pid pid = spawn([self_ptr] { Server(self_ptr).run(); }, SpawnOptions{.label = "otpp_global"});
    otpp::register_name(server_atom, pid);
    {
        std::lock_guard lock(mutex_);
        server_ = pid;
    }
    subscribe(pid);
    send(pid, go_atom);
    return pid;
}

void GlobalRegistry::stop() {
    Pid pid;
    {
        std::lock_guard lock(mutex_);
        if (stopped_ || server_ == Pid{}) return;
        stopped_ = true;
        pid = server_;
    }
    otpp::exit(pid, atoms::kill);
    // Until it is gone and its name free (a distribution started again in
    // this runtime registers the name anew); it dies at once, it only waits.
    for (int i = 0; i < 2000 && (is_process_alive(pid) || otpp::whereis(server_atom) == pid); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

Pid GlobalRegistry::server() const {
    std::lock_guard lock(mutex_);
    return server_;
}

std::vector<Atom> GlobalRegistry::peers() const {
    std::vector<Atom> out;
    for (const auto& [node, server] : table_.peers()) out.push_back(node);
    return out;
}

Term GlobalRegistry::request(Pid server, Atom op, Atom name, Pid pid) {
    Ref mon = monitor(server);
    Ref req = make_ref();
    send(server, Term::tuple({request_atom, op, name, pid, self(), req}));
    auto m = receive(
        [&](const Term& t) {
            return (t.is_tuple(3) && t[0].is_atom(reply_atom) && t[1] == Term(req)) || is_down(t, mon);
        },
        options_.request_timeout);
    demonitor(mon, Flush::yes);
    if (!m) throw Error("global: no answer from otpp_global on " + std::string(node(server).name()));
    if (is_down(*m, mon)) return Term(false);  // the owner's node went away meanwhile
    const Term& result = (*m)[2];
    if (result.is_tuple(2) && result[0].is_atom(atoms::error))
        throw Error("global: " + std::string(op.name()) + " " + to_string(name) + " failed: " +
                    result[1].to_string(200));
    return result;
}

bool GlobalRegistry::register_name(Atom name, Pid pid) {
    // The owner is the node of the pid: its server runs the registration.
    Atom owner = node(pid);
    std::optional<Pid> server = owner == table_.self() ? std::optional<Pid>(this->server()) : table_.peer(owner);
    if (!server || *server == Pid{}) return false;  // not an otpp node we know
    if (pid.node == 0 && !is_process_alive(pid)) return false;
    return request(*server, add_op, name, pid).is_atom(atoms::true_);
}

void GlobalRegistry::unregister_name(Atom name) {
    auto e = table_.best(name);
    if (!e) return;
    std::optional<Pid> server = e->owner == table_.self() ? std::optional<Pid>(this->server()) : table_.peer(e->owner);
    if (!server || *server == Pid{}) return;
    request(*server, remove_op, name, e->pid);
}

}  // namespace otpp::dist
