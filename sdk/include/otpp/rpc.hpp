// rpc: calling functions on other nodes (Erlang's rpc module).
//
// rpc::call(Node, Module, Function, Args) runs Module:Function(Args...) on
// Node and returns its value: on an Erlang node any exported function, on an
// otpp node a module's rpc() (otpp/gen_server.hpp). Failures come back as
// values, as in Erlang: {badrpc, nodedown}, {badrpc, timeout},
// {badrpc, {'EXIT', Reason}}.
//
// Thread safety: call() blocks the calling process until the answer or the
// timeout; call it from a process.
#pragma once

#include "otpp/atom.hpp"
#include "otpp/export.hpp"
#include "otpp/process.hpp"
#include "otpp/term.hpp"

namespace otpp::rpc {

// `args` is the argument list (a proper list).
OTPP_API Term call(Atom node, Atom module, Atom function, Term args, Timeout timeout = infinity);

namespace detail {
// Module:Function(Args) on this node, in the calling process, which is pinned
// to the module's current version from then on (spawn a process for it).
struct Applied {
    enum Kind { value, undef, failed } kind;
    Term term;  // the value, or the failure's reason ({exception, <<"Type: what">>})
};
OTPP_API Applied apply(Atom module, Atom function, const Term& args);

// The node's rpc server, registered as `rex` (every Erlang node has one): it
// answers other nodes' rpc:call and rpc:cast. Started by distribution.
OTPP_API Pid start_server();
}  // namespace detail

}  // namespace otpp::rpc
