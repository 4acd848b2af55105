// Blocking TCP I/O with deadlines, for connection set-up (EPMD, handshake)
// and for anything else that talks to a socket from a plain thread.
//
// Every call that can wait takes a Deadline: it blocks the calling thread
// (never a scheduler's process: call these from a plain thread, or from a
// process that may hold its thread that long) until the operation completes
// or the deadline passes, and then throws TimeoutError. Reads and writes use
// poll() plus MSG_DONTWAIT, so they honour the deadline whether the fd is in
// blocking mode or not, and never raise SIGPIPE (MSG_NOSIGNAL).
//
// Every fd created here is close-on-exec, so daemons and children we start
// (epmd, erl) do not inherit it.
//
// Errors are exceptions: SocketError (with errno), TimeoutError when the
// deadline passes, ConnectionClosed when the peer closed before we got what
// we needed. All derive from otpp::Error.
#pragma once

#include <otpp/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace otpp::dist {

using SteadyClock = std::chrono::steady_clock;

// The point in time by which a whole operation must be done.
class Deadline {
public:
    // `budget` from now.
    explicit Deadline(SteadyClock::duration budget) : when_(SteadyClock::now() + budget) {}
    static Deadline at(SteadyClock::time_point when) { return Deadline(when); }
    static Deadline never() { return Deadline(SteadyClock::time_point::max()); }

    SteadyClock::time_point when() const noexcept { return when_; }
    bool is_never() const noexcept { return when_ == SteadyClock::time_point::max(); }
    bool expired() const noexcept { return !is_never() && SteadyClock::now() >= when_; }
    // Time left (zero once expired; a very large value for never()).
    std::chrono::milliseconds remaining() const noexcept;
    // For poll(): milliseconds left rounded up, 0 once expired, -1 for never().
    int poll_timeout_ms() const noexcept;
    // The earlier of the two.
    Deadline min(const Deadline& other) const noexcept { return other.when_ < when_ ? other : *this; }

private:
    explicit Deadline(SteadyClock::time_point when) : when_(when) {}
    SteadyClock::time_point when_;
};

// A system call on a socket failed; errno_value() says why.
class SocketError : public otpp::Error {
public:
    SocketError(std::string what, int errno_value);
    int errno_value() const noexcept { return errno_; }

private:
    int errno_;
};

// The deadline passed before the operation completed.
class TimeoutError : public SocketError {
public:
    explicit TimeoutError(std::string what);
};

// The peer closed the connection (or reset it) before we read what we needed.
class ConnectionClosed : public SocketError {
public:
    ConnectionClosed(std::string what, int errno_value = 0);
};

// Owns a file descriptor; closes it when destroyed.
class Socket {
public:
    Socket() = default;
    explicit Socket(int fd) noexcept : fd_(fd) {}
    Socket(Socket&& other) noexcept : fd_(other.release()) {}
    Socket& operator=(Socket&& other) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() { reset(); }

    int fd() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    // Gives up ownership.
    int release() noexcept;
    // Closes the fd now.
    void reset() noexcept;

private:
    int fd_ = -1;
};

// An IPv4 address (network order inside, dotted quad outside).
struct Ipv4 {
    std::uint32_t addr = 0;  // network byte order
    static Ipv4 loopback();
    // "127.0.0.1" -> Ipv4; throws otpp::BadArg for anything else than a dotted quad.
    static Ipv4 parse(std::string_view dotted);
    std::string to_string() const;
    friend bool operator==(const Ipv4&, const Ipv4&) = default;
};

// Resolves a host name to its first IPv4 address (getaddrinfo, AF_INET; a
// dotted quad is returned as is). Blocks in the resolver with no deadline:
// /etc/hosts answers at once, DNS takes as long as the resolver's own
// timeouts. Throws SocketError ("cannot resolve host 'x': ...").
Ipv4 resolve_ipv4(const std::string& host);

// Connects to address:port; TCP_NODELAY is set (as erl sets it on
// distribution sockets). Blocks until connected or the deadline passes.
// Throws SocketError (e.g. ECONNREFUSED: nothing listens there) or
// TimeoutError.
Socket connect_tcp(Ipv4 address, std::uint16_t port, const Deadline& deadline);

// A listening socket on address:port (port 0: the kernel picks one; see
// local_port()). SO_REUSEADDR is set. Does not block. Throws SocketError.
Socket listen_tcp(Ipv4 address, std::uint16_t port, int backlog = 128);

// The local port a socket is bound to. Throws SocketError.
std::uint16_t local_port(int fd);

// Accepts one connection (TCP_NODELAY set). Blocks until one arrives or the
// deadline passes (TimeoutError).
Socket accept_tcp(int listen_fd, const Deadline& deadline);

// Writes all of `bytes`. Blocks while the socket's send buffer is full, up to
// the deadline. Throws ConnectionClosed (EPIPE, ECONNRESET), TimeoutError or
// SocketError.
void write_all(int fd, std::span<const std::uint8_t> bytes, const Deadline& deadline);

// Reads exactly bytes.size() bytes. Throws ConnectionClosed on EOF before
// that, TimeoutError, SocketError.
void read_exact(int fd, std::span<std::uint8_t> bytes, const Deadline& deadline);

// Reads until the peer closes, at most `limit` bytes (more is a SocketError).
std::vector<std::uint8_t> read_to_eof(int fd, const Deadline& deadline, std::size_t limit = 1 << 20);

// Waits until the fd is readable (data or EOF). Returns false if the
// deadline passed first.
bool wait_readable(int fd, const Deadline& deadline);

// Frames with a 2-byte big-endian length (the handshake's and EPMD's
// requests: gen_tcp {packet, 2}). write_frame16 throws otpp::BadArg for a
// payload over 65535 bytes.
void write_frame16(int fd, std::span<const std::uint8_t> payload, const Deadline& deadline);
std::vector<std::uint8_t> read_frame16(int fd, const Deadline& deadline);

// Frames with a 4-byte big-endian length (a connection after its handshake:
// {packet, 4}). A zero-length frame is a tick. read_frame32 refuses frames
// over `limit` bytes (SocketError) without reading them.
void write_frame32(int fd, std::span<const std::uint8_t> payload, const Deadline& deadline);
std::vector<std::uint8_t> read_frame32(int fd, const Deadline& deadline, std::size_t limit = 1u << 30);

// Big-endian helpers.
inline void put_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}
inline void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
inline void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
    for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
inline std::uint16_t get_u16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
inline std::uint32_t get_u32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
inline std::uint64_t get_u64(const std::uint8_t* p) { return std::uint64_t{get_u32(p)} << 32 | get_u32(p + 4); }

}  // namespace otpp::dist
