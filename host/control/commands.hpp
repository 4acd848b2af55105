// The control protocol's commands (docs/CONSOLE.md): one request term in, one
// reply term out. The transport (server.hpp) runs each request in a process
// of its own (a ScopedProcess), so commands may call, monitor and receive.
#pragma once

#include <otpp/runtime.hpp>
#include <otpp/term.hpp>

#include <string>
#include <vector>

namespace otpp::control {

// What the commands need from the host.
struct ControlContext {
    Runtime* runtime = nullptr;
    std::string node;                // the node's name, for `hello` and `stats`
    std::vector<Atom> applications;  // top supervisors are registered under these names
};

// The protocol version `hello` reports; bumped on incompatible changes.
inline constexpr int protocol_version = 1;

// {Command, [Args...]} -> {ok, Result} | {error, <<"message">>}. Never throws
// (except ProcessExit, when the calling process is killed). In a process.
Term handle_request(const Term& request, const ControlContext& context);

// Command names, for `hello` and the console's completion.
const std::vector<std::string>& command_names();

// Requests are parsed accepting only atoms the node already has (a client
// must not fill the atom table): the protocol's own words are made to exist
// when the server starts.
void intern_protocol_atoms();

}  // namespace otpp::control
