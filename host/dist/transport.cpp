#include "transport.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

namespace otpp::dist {

namespace {

class PlainTransport final : public Transport {
public:
    PlainTransport(int fd, bool owned) : fd_(fd), owned_(owned) {}
    ~PlainTransport() override {
        if (owned_) ::close(fd_);
    }

    bool read_exact(char* p, std::size_t n) override {
        while (n > 0) {
            ssize_t r = ::read(fd_, p, n);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return fail(r == 0 ? 0 : errno);
            p += r;
            n -= static_cast<std::size_t>(r);
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
    std::atomic<int> first_error_{0};  // 0: none; else errno + 1 (1: end of stream)
};

}  // namespace

std::unique_ptr<Transport> plain_transport(int fd) { return std::make_unique<PlainTransport>(fd, true); }
std::unique_ptr<Transport> plain_transport_borrowing(int fd) { return std::make_unique<PlainTransport>(fd, false); }

}  // namespace otpp::dist
