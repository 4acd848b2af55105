// A client of EPMD, the Erlang Port Mapper Daemon (erl_dist_protocol.md,
// "EPMD Protocol"; erl_epmd.erl): make sure one runs, register this node,
// ask for another node's port, list the registered names.
//
// EPMD listens on port 4369, or on ERL_EPMD_PORT if that is set (for the
// daemon and for every node alike). Requests are framed with a 2-byte length;
// replies are not framed. Every call blocks the calling thread up to its
// Deadline (TimeoutError, see blocking_socket.hpp); failures are EpmdError
// (or SocketError/TimeoutError from the socket underneath), all otpp::Error.
#pragma once

#include "blocking_socket.hpp"

#include <otpp/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otpp::dist {

class EpmdError : public otpp::Error {
public:
    explicit EpmdError(std::string what);
};

// Request and reply tags (erl_epmd.hrl).
inline constexpr std::uint8_t EPMD_ALIVE2_REQ = 120;      // 'x'
inline constexpr std::uint8_t EPMD_ALIVE2_RESP = 121;     // 'y', 16-bit creation (old EPMD)
inline constexpr std::uint8_t EPMD_ALIVE2_X_RESP = 118;   // 'v', 32-bit creation
inline constexpr std::uint8_t EPMD_PORT_PLEASE2_REQ = 122;  // 'z'
inline constexpr std::uint8_t EPMD_PORT2_RESP = 119;      // 'w'
inline constexpr std::uint8_t EPMD_NAMES_REQ = 110;       // 'n'
inline constexpr std::uint8_t EPMD_DUMP_REQ = 100;        // 'd'
inline constexpr std::uint8_t EPMD_KILL_REQ = 107;        // 'k'

inline constexpr std::uint8_t EPMD_NODE_TYPE_NORMAL = 77;  // 'M', what erl registers (also when hidden)
inline constexpr std::uint8_t EPMD_NODE_TYPE_HIDDEN = 72;  // 'H', C nodes
inline constexpr std::uint8_t EPMD_PROTOCOL_TCP_IPV4 = 0;
inline constexpr std::uint16_t DIST_VERSION = 6;  // the only version OTP 25-27 speak

inline constexpr std::uint16_t EPMD_DEFAULT_PORT = 4369;

// ERL_EPMD_PORT if set, else 4369. Throws EpmdError if ERL_EPMD_PORT is not a
// port number.
std::uint16_t epmd_port_from_env();

// Where an EPMD is: address and port.
struct EpmdEndpoint {
    Ipv4 address = Ipv4::loopback();
    std::uint16_t port = EPMD_DEFAULT_PORT;
    // 127.0.0.1 and epmd_port_from_env().
    static EpmdEndpoint local();
    std::string to_string() const { return address.to_string() + ":" + std::to_string(port); }
};

// True if something accepts TCP connections on the endpoint (connect only;
// blocks up to the deadline).
bool epmd_answers(const EpmdEndpoint& epmd, const Deadline& deadline);

struct EnsureEpmdOptions {
    // The program to start, found on PATH like erl's own ("epmd"; Debian's
    // /usr/bin/epmd).
    std::string program = "epmd";
    // Extra arguments after "-daemon -port N" (e.g. {"-address", "127.0.0.1"}).
    std::vector<std::string> extra_args;
};

// Makes sure an EPMD answers on 127.0.0.1:`port`: if nothing does, runs
// `epmd -daemon -port <port>` (as erl does when a node starts; the daemon
// detaches and outlives us, with its stdio on /dev/null), then polls until it
// answers. Returns true if it had to start one. Blocks up to the deadline;
// throws EpmdError if the program cannot be run or nothing answers in time
// (the message has the launcher's exit status). Two processes racing here
// are fine: the second daemon fails to bind and exits, and both see the first.
bool ensure_epmd(std::uint16_t port, const Deadline& deadline, const EnsureEpmdOptions& options = {});

struct RegisterOptions {
    EpmdEndpoint epmd = EpmdEndpoint::local();
    std::uint8_t node_type = EPMD_NODE_TYPE_NORMAL;
    std::uint8_t protocol = EPMD_PROTOCOL_TCP_IPV4;
    std::uint16_t highest_version = DIST_VERSION;
    std::uint16_t lowest_version = DIST_VERSION;
    std::vector<std::uint8_t> extra;
};

// This node's registration in EPMD (ALIVE2_REQ). EPMD keeps a name registered
// as long as the socket that registered it stays open, so the registration
// lives exactly as long as this object: destroying it (or close()) closes the
// socket and EPMD forgets the name (it notices the close on its own, shortly
// after).
class EpmdRegistration {
public:
    // Registers `alive` (the part of the node name before '@') for
    // distribution port `port`. Blocks up to the deadline. Throws EpmdError if
    // EPMD refuses ("the name 'x' seems to be in use by another Erlang node"),
    // or answers something else than ALIVE2_X_RESP/ALIVE2_RESP; SocketError if
    // no EPMD answers (ECONNREFUSED); TimeoutError.
    static EpmdRegistration register_node(std::string_view alive, std::uint16_t port, const Deadline& deadline,
                                          const RegisterOptions& options = {});

    EpmdRegistration(EpmdRegistration&&) noexcept = default;
    EpmdRegistration& operator=(EpmdRegistration&&) noexcept = default;

    // The creation EPMD handed out (ALIVE2_X_RESP's 32 bits); erl uses it as
    // the node's creation. Not random: Debian's OTP 25.2.3 epmd hands out a
    // counter that starts near the Unix time and goes up by one per
    // registration (measured), so a new incarnation differs from the last.
    std::uint32_t creation() const noexcept { return creation_; }
    const std::string& alive() const noexcept { return alive_; }
    std::uint16_t port() const noexcept { return port_; }
    bool registered() const noexcept { return static_cast<bool>(socket_); }
    // Unregisters now (closes the socket).
    void close() noexcept { socket_.reset(); }

private:
    EpmdRegistration(Socket socket, std::string alive, std::uint16_t port, std::uint32_t creation)
        : socket_(std::move(socket)), alive_(std::move(alive)), port_(port), creation_(creation) {}
    Socket socket_;
    std::string alive_;
    std::uint16_t port_ = 0;
    std::uint32_t creation_ = 0;
};

// A PORT2_RESP: how to reach a registered node.
struct NodePort {
    std::uint16_t port = 0;
    std::uint8_t node_type = 0;  // 77 normal, 72 hidden
    std::uint8_t protocol = 0;   // 0 TCP/IPv4
    std::uint16_t highest_version = 0;
    std::uint16_t lowest_version = 0;
    std::string name;  // the alive name
    std::vector<std::uint8_t> extra;
};

// PORT_PLEASE2_REQ for `alive` at `epmd`. Returns nullopt if no such name is
// registered there. Blocks up to the deadline. Throws EpmdError on a
// malformed reply, SocketError/TimeoutError.
std::optional<NodePort> port_please(std::string_view alive, const Deadline& deadline,
                                    const EpmdEndpoint& epmd = EpmdEndpoint::local());

// NAMES_REQ: the names registered at `epmd` and their ports (parsed from
// "name foo at port 4711\n" lines). Blocks up to the deadline.
std::vector<std::pair<std::string, std::uint16_t>> epmd_names(const Deadline& deadline,
                                                              const EpmdEndpoint& epmd = EpmdEndpoint::local());

}  // namespace otpp::dist
