#include "blocking_socket.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <limits>

namespace otpp::dist {

namespace {

std::string errno_text(int e) { return std::strerror(e); }

[[noreturn]] void throw_errno(const std::string& what, int e) {
    if (e == EPIPE || e == ECONNRESET) throw ConnectionClosed(what + ": " + errno_text(e), e);
    throw SocketError(what + ": " + errno_text(e), e);
}

void set_nodelay(int fd) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// poll() one fd for `events` until the deadline; EINTR is retried with the
// time left. Returns false on timeout.
bool wait_for(int fd, short events, const Deadline& deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, deadline.poll_timeout_ms());
        if (n > 0) return true;
        if (n == 0) {
            if (deadline.expired()) return false;
            continue;  // woke a little early (rounding)
        }
        if (errno == EINTR) continue;
        throw_errno("poll", errno);
    }
}

sockaddr_in make_addr(Ipv4 address, std::uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = address.addr;
    return sa;
}

}  // namespace

std::chrono::milliseconds Deadline::remaining() const noexcept {
    using namespace std::chrono;
    if (is_never()) return milliseconds::max();
    auto now = SteadyClock::now();
    if (now >= when_) return milliseconds(0);
    return ceil<milliseconds>(when_ - now);
}

int Deadline::poll_timeout_ms() const noexcept {
    if (is_never()) return -1;
    auto ms = remaining().count();
    if (ms > std::numeric_limits<int>::max()) return std::numeric_limits<int>::max();
    return static_cast<int>(ms);
}

SocketError::SocketError(std::string what, int errno_value) : otpp::Error(std::move(what)), errno_(errno_value) {}
TimeoutError::TimeoutError(std::string what) : SocketError(std::move(what), ETIMEDOUT) {}
ConnectionClosed::ConnectionClosed(std::string what, int errno_value) : SocketError(std::move(what), errno_value) {}

Socket& Socket::operator=(Socket&& other) noexcept {
    if (this != &other) {
        reset();
        fd_ = other.release();
    }
    return *this;
}

int Socket::release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
}

void Socket::reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

Ipv4 Ipv4::loopback() { return Ipv4{htonl(INADDR_LOOPBACK)}; }

Ipv4 Ipv4::parse(std::string_view dotted) {
    std::string s(dotted);
    in_addr a{};
    if (::inet_pton(AF_INET, s.c_str(), &a) != 1) throw otpp::BadArg("not an IPv4 address: '" + s + "'");
    return Ipv4{a.s_addr};
}

std::string Ipv4::to_string() const {
    char buf[INET_ADDRSTRLEN];
    in_addr a{addr};
    ::inet_ntop(AF_INET, &a, buf, sizeof buf);
    return buf;
}

Ipv4 resolve_ipv4(const std::string& host) {
    in_addr a{};
    if (::inet_pton(AF_INET, host.c_str(), &a) == 1) return Ipv4{a.s_addr};
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (rc != 0 || !res) {
        std::string why = rc == EAI_SYSTEM ? errno_text(errno) : ::gai_strerror(rc);
        if (res) ::freeaddrinfo(res);
        throw SocketError("cannot resolve host '" + host + "' to an IPv4 address: " + why, ENOENT);
    }
    Ipv4 out{reinterpret_cast<const sockaddr_in*>(res->ai_addr)->sin_addr.s_addr};
    ::freeaddrinfo(res);
    return out;
}

Socket connect_tcp(Ipv4 address, std::uint16_t port, const Deadline& deadline) {
    const std::string where = address.to_string() + ":" + std::to_string(port);
    Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!s) throw_errno("socket", errno);
    sockaddr_in sa = make_addr(address, port);
    if (::connect(s.fd(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        if (errno != EINPROGRESS) throw_errno("connect to " + where, errno);
        if (!wait_for(s.fd(), POLLOUT, deadline))
            throw TimeoutError("connect to " + where + " timed out");
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) throw SocketError("connect to " + where + ": " + errno_text(err), err);
    }
    // Back to blocking mode: our own reads and writes use MSG_DONTWAIT, and
    // whoever takes the fd over gets an ordinary socket.
    int fl = ::fcntl(s.fd(), F_GETFL);
    ::fcntl(s.fd(), F_SETFL, fl & ~O_NONBLOCK);
    set_nodelay(s.fd());
    return s;
}

Socket listen_tcp(Ipv4 address, std::uint16_t port, int backlog) {
    Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) throw_errno("socket", errno);
    int one = 1;
    ::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa = make_addr(address, port);
    if (::bind(s.fd(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
        throw_errno("bind " + address.to_string() + ":" + std::to_string(port), errno);
    if (::listen(s.fd(), backlog) != 0) throw_errno("listen", errno);
    return s;
}

std::uint16_t local_port(int fd) {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) throw_errno("getsockname", errno);
    return ntohs(sa.sin_port);
}

Socket accept_tcp(int listen_fd, const Deadline& deadline) {
    for (;;) {
        if (!wait_for(listen_fd, POLLIN, deadline)) throw TimeoutError("no connection arrived in time (accept)");
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) continue;
            throw_errno("accept", errno);
        }
        Socket s(fd);
        int fl = ::fcntl(fd, F_GETFL);
        ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        set_nodelay(fd);
        return s;
    }
}

bool wait_readable(int fd, const Deadline& deadline) { return wait_for(fd, POLLIN, deadline); }

void write_all(int fd, std::span<const std::uint8_t> bytes, const Deadline& deadline) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_for(fd, POLLOUT, deadline))
                throw TimeoutError("write timed out (" + std::to_string(done) + " of " +
                                   std::to_string(bytes.size()) + " bytes sent)");
            continue;
        }
        throw_errno("write", errno);
    }
}

void read_exact(int fd, std::span<std::uint8_t> bytes, const Deadline& deadline) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::recv(fd, bytes.data() + done, bytes.size() - done, MSG_DONTWAIT);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n == 0)
            throw ConnectionClosed("the peer closed the connection (" + std::to_string(done) + " of " +
                                   std::to_string(bytes.size()) + " bytes read)");
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_for(fd, POLLIN, deadline))
                throw TimeoutError("read timed out (" + std::to_string(done) + " of " +
                                   std::to_string(bytes.size()) + " bytes read)");
            continue;
        }
        throw_errno("read", errno);
    }
}

std::vector<std::uint8_t> read_to_eof(int fd, const Deadline& deadline, std::size_t limit) {
    std::vector<std::uint8_t> out;
    std::uint8_t buf[4096];
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            if (out.size() + static_cast<std::size_t>(n) > limit)
                throw SocketError("the peer sent more than " + std::to_string(limit) + " bytes", EMSGSIZE);
            out.insert(out.end(), buf, buf + n);
            continue;
        }
        if (n == 0) return out;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_for(fd, POLLIN, deadline)) throw TimeoutError("the peer did not close the connection in time");
            continue;
        }
        if (errno == ECONNRESET) return out;
        throw_errno("read", errno);
    }
}

void write_frame16(int fd, std::span<const std::uint8_t> payload, const Deadline& deadline) {
    if (payload.size() > 0xffff)
        throw otpp::BadArg("a 2-byte-length frame holds at most 65535 bytes, not " + std::to_string(payload.size()));
    std::vector<std::uint8_t> frame;
    frame.reserve(2 + payload.size());
    put_u16(frame, static_cast<std::uint16_t>(payload.size()));
    frame.insert(frame.end(), payload.begin(), payload.end());
    write_all(fd, frame, deadline);
}

std::vector<std::uint8_t> read_frame16(int fd, const Deadline& deadline) {
    std::uint8_t len[2];
    read_exact(fd, len, deadline);
    std::vector<std::uint8_t> payload(get_u16(len));
    read_exact(fd, payload, deadline);
    return payload;
}

void write_frame32(int fd, std::span<const std::uint8_t> payload, const Deadline& deadline) {
    if (payload.size() > 0xffffffffu)
        throw otpp::BadArg("a 4-byte-length frame holds at most 4 GiB - 1 bytes");
    std::vector<std::uint8_t> frame;
    frame.reserve(4 + payload.size());
    put_u32(frame, static_cast<std::uint32_t>(payload.size()));
    frame.insert(frame.end(), payload.begin(), payload.end());
    write_all(fd, frame, deadline);
}

std::vector<std::uint8_t> read_frame32(int fd, const Deadline& deadline, std::size_t limit) {
    std::uint8_t len[4];
    read_exact(fd, len, deadline);
    std::uint32_t n = get_u32(len);
    if (n > limit)
        throw SocketError("frame of " + std::to_string(n) + " bytes exceeds the limit of " + std::to_string(limit),
                          EMSGSIZE);
    std::vector<std::uint8_t> payload(n);
    read_exact(fd, payload, deadline);
    return payload;
}

}  // namespace otpp::dist
