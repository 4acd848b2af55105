// The SDK's node functions (otpp/node.hpp): answered by distribution when the
// node runs it (runtime/remote.hpp), locally otherwise.
#include "current.hpp"
#include "kernel.hpp"
#include "process.hpp"

#include <otpp/error.hpp>
#include <otpp/node.hpp>
#include <otpp/process.hpp>

namespace otpp {

namespace {
runtime::Remote* remote() { return runtime::current_kernel().remote(); }
const Atom nodedown_atom("nodedown");
}  // namespace

Atom node() {
    runtime::Remote* r = remote();
    return r ? r->node_name() : atoms::nonode_at_nohost;
}

Atom node(Pid pid) {
    if (pid.node == 0) return node();
    runtime::Remote* r = remote();
    return r ? r->node_of(pid.node) : atoms::nonode_at_nohost;
}

Atom node(Ref ref) {
    if (ref.node == 0) return node();
    runtime::Remote* r = remote();
    // Remote refs keep their node's index in the low bits (dist/node_table.hpp).
    return r ? r->node_of(ref.node & ((1u << 14) - 1)) : atoms::nonode_at_nohost;
}

bool is_alive() { return remote() != nullptr; }

std::vector<Atom> nodes() {
    runtime::Remote* r = remote();
    return r ? r->nodes() : std::vector<Atom>{};
}

void send(Atom name, Atom to_node, Term message) {
    if (to_node == node()) return send(name, std::move(message));
    runtime::Remote* r = remote();
    if (!r) return;  // not distributed: no other node can be reached
    runtime::Process* sender = runtime::current_process();
    r->send_named(sender ? sender->pid() : Pid{}, name, to_node, std::move(message));
    if (sender) {
        sender->consume_reductions(10);
        r->wait_while_busy(to_node);
    }
}

bool connect_node(Atom n) {
    if (n == node()) return true;
    runtime::Remote* r = remote();
    return r ? r->connect(n) : false;
}

bool disconnect_node(Atom n) {
    runtime::Remote* r = remote();
    return r ? r->disconnect(n) : false;
}

void monitor_nodes(bool on) {
    Pid me = runtime::require_process().pid();
    if (runtime::Remote* r = remote()) r->monitor_nodes(me, on);
}

void monitor_node(Atom n, bool on) {
    Pid me = runtime::require_process().pid();
    if (runtime::Remote* r = remote()) return r->monitor_node(me, n, on);
    // Not distributed: the node cannot be reached, so nodedown at once.
    if (on) send(me, Term::tuple({nodedown_atom, n}));
}

// ---------------------------------------------------------------- global names

namespace {
runtime::Remote& distributed(const char* what) {
    runtime::Remote* r = remote();
    if (!r) throw BadArg(std::string(what) + ": this node is not distributed (no node name)");
    return *r;
}
}  // namespace

bool register_global(Atom name, Pid pid) {
    runtime::require_process();
    return distributed("register_global").register_global(name, pid);
}

void unregister_global(Atom name) {
    runtime::require_process();
    distributed("unregister_global").unregister_global(name);
}

std::optional<Pid> whereis_global(Atom name) {
    runtime::Remote* r = remote();
    return r ? r->whereis_global(name) : std::nullopt;
}

void send_global(Atom name, Term message) {
    std::optional<Pid> to = whereis_global(name);
    if (!to) throw BadArg("send_global: no process is registered globally as " + to_string(name));
    send(*to, std::move(message));
}

std::vector<Atom> global_names() {
    runtime::Remote* r = remote();
    return r ? r->global_names() : std::vector<Atom>{};
}

}  // namespace otpp
