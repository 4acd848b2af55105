#include "transport.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace otpp::dist {

namespace {

class PlainTransport final : public Transport {
public:
    PlainTransport(int fd, bool owned) : fd_(fd), owned_(owned) {}
    ~PlainTransport() override {
        if (owned_) ::close(fd_);
    }

    // Buffered: one read() serves many small packets (two unbuffered reads
    // a packet made the reader thread spend half its time in the system
    // call, measured). Only the connection's reader calls it, after the
    // handshake's unbuffered recv_exact is done.
    bool read_exact(char* p, std::size_t n) override {
        while (n > 0) {
            if (begin_ < end_) {
                std::size_t k = std::min(n, end_ - begin_);
                std::memcpy(p, buffer_.data() + begin_, k);
                begin_ += k;
                p += k;
                n -= k;
                continue;
            }
            // Big reads go straight to the caller; small ones fill the buffer.
            const bool direct = n >= buffer_.size();
            ssize_t r = direct ? ::read(fd_, p, n) : ::read(fd_, buffer_.data(), buffer_.size());
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return fail(r == 0 ? 0 : errno);
            if (direct) {
                p += r;
                n -= static_cast<std::size_t>(r);
            } else {
                begin_ = 0;
                end_ = static_cast<std::size_t>(r);
            }
        }
        return true;
    }

    bool write_all(const char* p, std::size_t n) override {
        while (n > 0) {
            ssize_t r = ::send(fd_, p, n, MSG_NOSIGNAL);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return fail(errno);
            p += r;
            n -= static_cast<std::size_t>(r);
        }
        return true;
    }

    bool can_write_now() const noexcept override { return true; }
    std::ptrdiff_t write_now(const char* p, std::size_t n) override {
        std::size_t done = 0;
        while (done < n) {
            ssize_t r = ::send(fd_, p + done, n - done, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            if (r <= 0) {
                fail(errno);
                return -1;
            }
            done += static_cast<std::size_t>(r);
        }
        return static_cast<std::ptrdiff_t>(done);
    }

    void shutdown() noexcept override { ::shutdown(fd_, SHUT_RDWR); }

    const char* last_error() const noexcept override {
        int f = first_error_.load(std::memory_order_relaxed);
        if (f == 0) return "";
        return f == 1 ? "end of stream" : std::strerror(f - 1);
    }

    void recv_exact(std::span<std::uint8_t> bytes, const Deadline& deadline) override {
        dist::read_exact(fd_, bytes, deadline);
    }
    void send_all(std::span<const std::uint8_t> bytes, const Deadline& deadline) override {
        dist::write_all(fd_, bytes, deadline);
    }

    std::size_t handshake_length_bytes() const noexcept override { return 2; }
    std::string describe() const override { return "tcp"; }

private:
    bool fail(int e) {
        // The first failure is the one worth reporting.
        int none = 0;
        first_error_.compare_exchange_strong(none, e + 1, std::memory_order_relaxed);
        return false;
    }
    int fd_;
    bool owned_;
    std::vector<char> buffer_ = std::vector<char>(64 * 1024);
    std::size_t begin_ = 0, end_ = 0;  // unread bytes in buffer_
    std::atomic<int> first_error_{0};  // 0: none; else errno + 1 (1: end of stream)
};

}  // namespace

std::unique_ptr<Transport> plain_transport(int fd) { return std::make_unique<PlainTransport>(fd, true); }
std::unique_ptr<Transport> plain_transport_borrowing(int fd) { return std::make_unique<PlainTransport>(fd, false); }

}  // namespace otpp::dist
