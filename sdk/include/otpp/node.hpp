// Nodes: this host as a member of an Erlang cluster (docs/DISTRIBUTION.md).
//
// A node is named name@host and started with otpp-host --sname/--name. Pids
// and references of other nodes are ordinary Pid/Ref values: send(), link(),
// monitor(), exit() and gen_server::call() work on them exactly as on local
// ones; when the connection to their node is lost, every link and monitor
// across it fires with reason `noconnection`.
//
// Without distribution (no node name) these answer as a non-distributed
// Erlang node does: node() is nonode@nohost and nodes() is empty.
//
// Thread safety: all of these may be called from any thread; connect_node()
// blocks the caller until connected or failed, the others never block.
#pragma once

#include <vector>

#include "otpp/atom.hpp"
#include "otpp/export.hpp"
#include "otpp/pid.hpp"
#include "otpp/ref.hpp"
#include "otpp/term.hpp"

namespace otpp {

// node(): this node's name.
OTPP_API Atom node();
// node(Pid) / node(Ref): the node a pid or reference belongs to.
OTPP_API Atom node(Pid pid);
OTPP_API Atom node(Ref ref);
// is_alive(): whether this node is distributed.
OTPP_API bool is_alive();
// nodes(): the nodes connected to this one.
OTPP_API std::vector<Atom> nodes();

// {Name, Node} ! Message. For this node it is send(name, message) (throws
// BadArg if the name is free); for another node it never throws and a
// message to a name nobody holds there is dropped, as in Erlang.
OTPP_API void send(Atom name, Atom node, Term message);

// net_kernel:connect_node/1: true once connected (at once if already).
OTPP_API bool connect_node(Atom node);
// erlang:disconnect_node/1.
OTPP_API bool disconnect_node(Atom node);
// net_kernel:monitor_nodes(Flag): the caller gets {nodeup, Node} and
// {nodedown, Node} for every node that connects or disconnects. In a process.
OTPP_API void monitor_nodes(bool on);
// erlang:monitor_node(Node, Flag): one {nodedown, Node} when the connection
// to Node is lost (at once if it cannot be made). In a process.
OTPP_API void monitor_node(Atom node, bool on);

}  // namespace otpp
