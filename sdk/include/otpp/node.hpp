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

#include <optional>
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
// message to a name nobody holds there is dropped, as in Erlang. Like
// send(Pid, ...), suspends a process whose queue to that node is busy.
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

// ---------------------------------------------------------------- global names
//
// A name registry shared by the otpp nodes of a cluster (Erlang's `global`
// for otpp nodes; docs/DISTRIBUTION.md, "Global names"). Every otpp node runs
// a registered process, otpp_global, that keeps a replica of the table;
// whereis_global() reads this node's replica and never sends anything.
// Only otpp nodes take part: a BEAM node connected to this one neither sees
// these names nor is asked about them (nothing is advertised to it).
//
// A name is freed when its process dies, when it is unregistered, and, on
// every other node, when the connection to the process's node is lost.
//
// Joining: a node takes part in the registry of another once their
// otpp_global processes have exchanged hellos, which they do as soon as the
// two connect (nodeup); the newcomer then knows every name the other owns,
// and the nodes connect to each other's otpp peers (the mesh forms).
//
// Conflicts: register_global() takes a lock on the name at every otpp node
// that has joined (one node at a time, in node-name order, so two
// registrars never deadlock), so among joined nodes a name has at most one
// process. Two partitions that each registered a name and then meet (or a
// registration made while a node was still joining) keep the OLDER
// registration -- by the clock of the node that made each one; at equal
// times the lower node name, then the lower pid -- so every node picks the
// same winner. The other process is unregistered and sent the exit signal
// {global_name_conflict, Name}: it dies unless it traps exits, in which case
// it gets {'EXIT', GlobalServer, {global_name_conflict, Name}}. The winner is
// what whereis_global() answers on every node from the moment it holds both.
//
// Without distribution (no node name) there is no cluster: register_global()
// and unregister_global() throw BadArg, whereis_global() is nullopt and
// global_names() is empty.

// global:register_name/2: registers `pid` (of this node or another otpp
// node) as `name` on every otpp node. Returns once every otpp node that has
// joined knows it (a whereis_global() there answers `pid`). False if the name
// is taken (on any node), if `pid` is a dead process of this node, or if its
// node is not an otpp node that has joined. A process may hold several global
// names.
// In a process; blocks the caller (a few round trips per node). Throws Error
// if the name cannot be locked within 30 s (a node that never answers).
OTPP_API bool register_global(Atom name, Pid pid);
// global:unregister_name/1: frees `name` on every otpp node (does nothing if
// it is free). Returns once every otpp node that has joined has forgotten it.
// In a process; blocks like register_global.
OTPP_API void unregister_global(Atom name);
// global:whereis_name/1: the process registered as `name`, from this node's
// replica. Any thread; never blocks.
OTPP_API std::optional<Pid> whereis_global(Atom name);
// global:send/2: sends `message` to the process registered as `name`; throws
// BadArg if nobody is. Any thread.
OTPP_API void send_global(Atom name, Term message);
// global:registered_names/0: every global name this node knows, sorted. Any
// thread.
OTPP_API std::vector<Atom> global_names();

}  // namespace otpp
