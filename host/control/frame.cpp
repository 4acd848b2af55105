#include "frame.hpp"

#include <cerrno>
#include <cstdint>
#include <poll.h>
#include <sys/socket.h>

namespace otpp::control {

const char* to_string(FrameStatus s) noexcept {
    switch (s) {
        case FrameStatus::ok: return "ok";
        case FrameStatus::closed: return "connection closed";
        case FrameStatus::truncated: return "connection closed in the middle of a frame";
        case FrameStatus::idle: return "idle timeout";
        case FrameStatus::timeout: return "timed out in the middle of a frame";
        case FrameStatus::too_large: return "frame larger than 1 MiB";
        case FrameStatus::woken: return "interrupted (shutting down)";
        case FrameStatus::error: return "socket error";
    }
    return "?";
}

namespace {

int ms_until(Clock::time_point deadline) {
    if (deadline == Clock::time_point::max()) return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return 0;
    return left > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(left);
}

// Waits until `fd` has `events` (POLLIN/POLLOUT), the deadline passes or
// wake_fd is readable. ok, idle (deadline), woken or error.
FrameStatus wait_for(int fd, short events, Clock::time_point deadline, int wake_fd) {
    for (;;) {
        pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
        int n = ::poll(fds, wake_fd >= 0 ? 2 : 1, ms_until(deadline));
        if (n < 0) {
            if (errno == EINTR) continue;  // e.g. the backtrace signal
            return FrameStatus::error;
        }
        if (wake_fd >= 0 && (fds[1].revents & POLLIN)) return FrameStatus::woken;
        if (n == 0) {
            if (Clock::now() >= deadline) return FrameStatus::idle;
            continue;
        }
        // POLLHUP/POLLERR: let recv/send report what happened.
        return FrameStatus::ok;
    }
}

// Reads exactly `n` bytes. `started`: whether this frame already began (an
// end of stream is then `truncated`, else `closed`).
FrameStatus read_exact(int fd, char* out, std::size_t n, Clock::time_point deadline, int wake_fd, bool started,
                       bool& got_any) {
    std::size_t have = 0;
    while (have < n) {
        FrameStatus w = wait_for(fd, POLLIN, deadline, wake_fd);
        if (w == FrameStatus::idle) return started || have > 0 ? FrameStatus::timeout : FrameStatus::idle;
        if (w != FrameStatus::ok) return w;
        ssize_t r = ::recv(fd, out + have, n - have, MSG_DONTWAIT);
        if (r == 0) return started || have > 0 ? FrameStatus::truncated : FrameStatus::closed;
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            if (errno == ECONNRESET) return started || have > 0 ? FrameStatus::truncated : FrameStatus::closed;
            return FrameStatus::error;
        }
        have += static_cast<std::size_t>(r);
        got_any = true;
    }
    return FrameStatus::ok;
}

}  // namespace

FrameStatus read_frame(int fd, std::string& body, Clock::time_point first_byte, std::chrono::milliseconds rest,
                       int wake_fd, std::size_t limit) {
    body.clear();
    unsigned char prefix[4];
    // The first byte alone decides between "idle" and "a frame has begun".
    bool got_any = false;
    FrameStatus s = read_exact(fd, reinterpret_cast<char*>(prefix), 1, first_byte, wake_fd, false, got_any);
    if (s != FrameStatus::ok) return s;
    const Clock::time_point deadline = Clock::now() + rest;
    s = read_exact(fd, reinterpret_cast<char*>(prefix) + 1, 3, deadline, wake_fd, true, got_any);
    if (s != FrameStatus::ok) return s;
    const std::uint32_t len = (std::uint32_t{prefix[0]} << 24) | (std::uint32_t{prefix[1]} << 16) |
                              (std::uint32_t{prefix[2]} << 8) | std::uint32_t{prefix[3]};
    if (len > limit) return FrameStatus::too_large;
    body.resize(len);
    if (len == 0) return FrameStatus::ok;
    return read_exact(fd, body.data(), len, deadline, wake_fd, true, got_any);
}

FrameStatus write_frame(int fd, std::string_view body, std::chrono::milliseconds limit, int wake_fd,
                        std::size_t max_bytes) {
    if (body.size() > max_bytes) return FrameStatus::too_large;
    const auto len = static_cast<std::uint32_t>(body.size());
    std::string out;
    out.reserve(4 + body.size());
    out += static_cast<char>((len >> 24) & 0xFF);
    out += static_cast<char>((len >> 16) & 0xFF);
    out += static_cast<char>((len >> 8) & 0xFF);
    out += static_cast<char>(len & 0xFF);
    out += body;
    const Clock::time_point deadline = Clock::now() + limit;
    std::size_t sent = 0;
    while (sent < out.size()) {
        FrameStatus w = wait_for(fd, POLLOUT, deadline, wake_fd);
        if (w == FrameStatus::idle) return FrameStatus::timeout;
        if (w != FrameStatus::ok) return w;
        ssize_t r = ::send(fd, out.data() + sent, out.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            return FrameStatus::error;
        }
        sent += static_cast<std::size_t>(r);
    }
    return FrameStatus::ok;
}

}  // namespace otpp::control
