// What the runtime asks of distribution (host/dist/), when a node runs it.
//
// The kernel routes every signal for a pid or name on another node here; the
// implementation (dist::Distribution) owns the connections. Without
// distribution there is no Remote: remote pids cannot exist then, and
// the SDK's node functions answer as a non-distributed Erlang node does.
//
// Thread safety: every member may be called from any thread, from a process
// or not; none blocks (connecting happens in the background).
#pragma once

#include "signal.hpp"

#include <otpp/atom.hpp>
#include <otpp/pid.hpp>
#include <otpp/term.hpp>

#include <optional>
#include <vector>

namespace otpp::runtime {

class Remote {
public:
    virtual ~Remote() = default;

    // This node's name (name@host).
    virtual Atom node_name() const = 0;
    // The node of a pid or reference's node index (nonode@nohost if unknown).
    virtual Atom node_of(std::uint32_t node_index) const = 0;

    // Takes `s` (always: it is deleted if it cannot be delivered) for `to`,
    // a pid of another node. Connects first if needed; if the node cannot be
    // reached, a link or monitor in `s` is answered with noconnection, as
    // Erlang does.
    virtual void route(Pid to, Signal* s) noexcept = 0;
    // {Name, Node} ! Message for another node.
    virtual void send_named(Pid from, Atom name, Atom node, Term message) noexcept = 0;
    // Called by a process that has just sent to `node`: returns at once,
    // unless more than the busy limit of its own messages wait in that
    // connection's queue (the peer reads slower than it sends). Then it
    // suspends the calling process (as a process: its scheduler serves the
    // others) until its share is back under the limit or the connection is
    // gone: Erlang's busy_dist_port, per sender. May throw what receive()
    // throws (an exit signal).
    virtual void wait_while_busy(Atom node) = 0;

    // A pid that stands for "the process registered as some name on `node`"
    // in a monitor by name (Process::monitor_name): it routes to whichever
    // incarnation of `node` is connected.
    virtual Pid name_stand_in(Atom node) = 0;

    // net_kernel:connect_node/1: blocks the caller until connected or failed.
    virtual bool connect(Atom node) = 0;
    // disconnect_node/1.
    virtual bool disconnect(Atom node) = 0;
    // nodes(): the connected (visible) nodes.
    virtual std::vector<Atom> nodes() const = 0;
    // monitor_nodes(Flag): `who` gets {nodeup, Node} / {nodedown, Node}.
    virtual void monitor_nodes(Pid who, bool on) = 0;
    // monitor_node(Node, Flag): `who` gets {nodedown, Node} once per call.
    virtual void monitor_node(Pid who, Atom node, bool on) = 0;

    // The global name registry (otpp/node.hpp's register_global and the
    // rest; dist/global_registry.hpp). register_global and unregister_global
    // block the calling process (they must be called in one); the others
    // never block. The defaults are those of a Remote without a registry.
    virtual bool register_global(Atom /*name*/, Pid /*pid*/) { return false; }
    virtual void unregister_global(Atom /*name*/) {}
    virtual std::optional<Pid> whereis_global(Atom /*name*/) const { return std::nullopt; }
    virtual std::vector<Atom> global_names() const { return {}; }
};

}  // namespace otpp::runtime
