// The global name registry across otpp nodes (otpp/node.hpp's
// register_global, unregister_global, whereis_global, send_global,
// global_names; docs/DISTRIBUTION.md, "Global names").
//
// Every otpp node runs a registered process, otpp_global (the server), that
// holds this node's replica of the table, and talks to the otpp_global of
// every other otpp node with ordinary messages ({otpp_global, Node} sends);
// it learns of nodes through monitor_nodes. BEAM nodes take no part: what
// the server sends them is dropped there (no such name), and they never
// answer, so they never become peers.
//
// The table. Each node is the only authority on the registrations of its own
// processes (the owner): it alone adds and removes them and tells every other
// node, in order, over its one connection to it. The replica therefore holds,
// per name, the candidate of each owner it heard from; whereis_global()
// answers the candidate that wins the conflict rule (GlobalTable::precedes:
// the older registration), so every node that holds the same candidates
// answers the same pid. A node's candidates disappear everywhere when the
// connection to it is lost.
//
// The protocol (messages in global_registry.cpp):
//   - nodeup N: send N a hello (our server's pid, our own registrations, the
//     otpp nodes we know). From then on every change to our registrations
//     goes to N too. A hello replaces everything N owned in our replica; a
//     node named in it that we do not know yet is connected to (the mesh
//     forms as with Erlang's global).
//   - register/unregister: the request goes to the owner's server (the node
//     of the pid), which spawns a registrar process. The registrar locks the
//     name at every otpp node it knows, one node at a time in node-name
//     order (so two registrars never deadlock; a busy lock makes it release
//     what it holds and retry after a random backoff), checks that no node
//     knows the name (register) or that the owner still holds it
//     (unregister), asks its own server to commit, and waits until every
//     locked node has applied the change (each releases the lock as it does).
//   - a registered process that dies is removed by its owner, which tells
//     everybody; nodedown N drops everything N owned.
//   - conflicts (two partitions that both registered a name meet): every
//     node keeps both candidates and answers the winner (the older
//     registration); the owner of the loser removes it and sends it the exit
//     signal {global_name_conflict, Name}.
//
// Thread safety: GlobalTable's members and whereis/names/peers may be called
// from any thread; register_name/unregister_name must be called in a process
// (they block it).
#pragma once

#include <otpp/atom.hpp>
#include <otpp/pid.hpp>
#include <otpp/term.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace otpp::dist {

// The replica of one node: candidates by name and owner, and the otpp nodes
// that said hello (with their server's pid).
class GlobalTable {
public:
    struct Entry {
        Pid pid;
        Atom owner;              // the node of pid
        std::int64_t since = 0;  // when the owner registered it: µs since the Unix epoch, its clock
        friend bool operator==(const Entry&, const Entry&) = default;
    };
    // A registration as its owner tells it to the others.
    struct Registration {
        Atom name;
        Pid pid;
        std::int64_t since = 0;
        friend bool operator==(const Registration&, const Registration&) = default;
    };

    explicit GlobalTable(Atom self) : self_(self) {}
    Atom self() const noexcept { return self_; }

    // The conflict rule: a wins over b if it is the older registration (by
    // `since`); at equal times, the one whose node name comes first (Erlang's
    // atom order), then the lower pid (serial, then id, as its node numbers
    // it). It looks only at what every node holds alike, so every node picks
    // the same winner.
    static bool precedes(const Entry& a, const Entry& b) noexcept;

    // The winning candidate for `name`, if any.
    std::optional<Entry> best(Atom name) const;
    std::optional<Pid> whereis(Atom name) const;
    // Every name with a candidate, sorted.
    std::vector<Atom> names() const;
    // This node's own candidate for `name`.
    std::optional<Pid> own(Atom name) const;
    // This node's own registrations.
    std::vector<Registration> own_entries() const;

    // Sets owner's candidate for `name` (replacing the one it had).
    void set(Atom name, Entry e);
    // Removes owner's candidate for `name` if it is `pid`; whether it did.
    bool erase(Atom name, Atom owner, Pid pid);
    // Replaces everything `owner` holds with `entries`; the names touched.
    std::vector<Atom> replace_owner(Atom owner, const std::vector<Registration>& entries);
    // Drops everything `owner` holds.
    void drop_owner(Atom owner);

    void set_peer(Atom node, Pid server);
    void drop_peer(Atom node);
    std::optional<Pid> peer(Atom node) const;
    // The otpp nodes that said hello, sorted by name.
    std::vector<std::pair<Atom, Pid>> peers() const;

private:
    static std::optional<Entry> best_of(const std::vector<Entry>& candidates);

    const Atom self_;
    mutable std::mutex mutex_;
    std::map<Atom, std::vector<Entry>> names_;  // at most one candidate per owner
    std::map<Atom, Pid> peers_;
};

struct GlobalOptions {
    // A registrar that cannot lock the name everywhere within this time
    // gives up (register_global throws).
    std::chrono::milliseconds lock_timeout{30'000};
    // How long register_global waits for the owner's answer at most.
    std::chrono::milliseconds request_timeout{60'000};
};

class GlobalRegistry : public std::enable_shared_from_this<GlobalRegistry> {
public:
    explicit GlobalRegistry(Atom self_node, GlobalOptions options = {});
    GlobalRegistry(const GlobalRegistry&) = delete;
    GlobalRegistry& operator=(const GlobalRegistry&) = delete;

    // Spawns the server and registers it as otpp_global; `subscribe(pid)` runs
    // before the server looks at the connected nodes (Distribution subscribes
    // it to nodeup/nodedown there, so that no node is missed). Call once the
    // node's Remote is installed on the kernel.
    Pid start(const std::function<void(Pid)>& subscribe);
    // Kills the server and waits (briefly) until it is gone. Idempotent.
    void stop();

    // otpp/node.hpp. In a process.
    bool register_name(Atom name, Pid pid);
    void unregister_name(Atom name);
    // Any thread.
    std::optional<Pid> whereis(Atom name) const { return table_.whereis(name); }
    std::vector<Atom> names() const { return table_.names(); }
    // The other otpp nodes taking part (that said hello), sorted.
    std::vector<Atom> peers() const;

    GlobalTable& table() noexcept { return table_; }
    const GlobalOptions& options() const noexcept { return options_; }
    Pid server() const;

private:
    Term request(Pid server, Atom op, Atom name, Pid pid);

    GlobalTable table_;
    GlobalOptions options_;
    mutable std::mutex mutex_;
    Pid server_;
    bool stopped_ = false;
};

}  // namespace otpp::dist
