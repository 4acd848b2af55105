// Frames (host/control/frame.hpp) over a socket pair: what a reader sees for
// every way a peer can misbehave.
#include <frame.hpp>

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <thread>

using namespace otpp::control;
using namespace std::chrono_literals;

namespace {

struct Pair {
    int a = -1, b = -1;
    Pair() {
        int fds[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        a = fds[0];
        b = fds[1];
    }
    ~Pair() {
        if (a >= 0) ::close(a);
        if (b >= 0) ::close(b);
    }
    void raw(const std::string& bytes) const { REQUIRE(::send(a, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size())); }
};

Clock::time_point soon() { return Clock::now() + 2s; }

}  // namespace

TEST_CASE("frames: a written frame reads back, empty ones too", "[control][frame]") {
    Pair p;
    REQUIRE(write_frame(p.a, "{ps, []}", 1s) == FrameStatus::ok);
    REQUIRE(write_frame(p.a, "", 1s) == FrameStatus::ok);
    std::string body;
    REQUIRE(read_frame(p.b, body, soon(), 1s) == FrameStatus::ok);
    CHECK(body == "{ps, []}");
    REQUIRE(read_frame(p.b, body, soon(), 1s) == FrameStatus::ok);
    CHECK(body.empty());
}

TEST_CASE("frames: the length prefix is big-endian", "[control][frame]") {
    Pair p;
    p.raw(std::string("\0\0\0\3abc", 7));
    std::string body;
    REQUIRE(read_frame(p.b, body, soon(), 1s) == FrameStatus::ok);
    CHECK(body == "abc");
}

TEST_CASE("frames: a huge length prefix is refused without reading or allocating it", "[control][frame]") {
    Pair p;
    p.raw("\xff\xff\xff\xff");
    std::string body;
    CHECK(read_frame(p.b, body, soon(), 1s) == FrameStatus::too_large);
    p.raw(std::string("\0\x10\0\x01", 4));  // 1 MiB + 1
    CHECK(read_frame(p.b, body, soon(), 1s) == FrameStatus::too_large);
    CHECK(write_frame(p.a, std::string(max_frame_bytes + 1, 'x'), 1s) == FrameStatus::too_large);
}

TEST_CASE("frames: end of stream before, inside the prefix, and inside the body", "[control][frame]") {
    std::string body;
    {
        Pair p;
        ::close(p.a);
        p.a = -1;
        CHECK(read_frame(p.b, body, soon(), 1s) == FrameStatus::closed);
    }
    {
        Pair p;
        p.raw(std::string("\0\0", 2));
        ::close(p.a);
        p.a = -1;
        CHECK(read_frame(p.b, body, soon(), 1s) == FrameStatus::truncated);
    }
    {
        Pair p;
        p.raw(std::string("\0\0\0\x10" "abc", 7));
        ::close(p.a);
        p.a = -1;
        CHECK(read_frame(p.b, body, soon(), 1s) == FrameStatus::truncated);
    }
}

TEST_CASE("frames: an idle peer and a peer stopping half-way time out", "[control][frame]") {
    Pair p;
    std::string body;
    CHECK(read_frame(p.b, body, Clock::now() + 50ms, 1s) == FrameStatus::idle);
    p.raw(std::string("\0\0\0\x10" "abc", 7));
    CHECK(read_frame(p.b, body, soon(), 100ms) == FrameStatus::timeout);
}

TEST_CASE("frames: a wake descriptor interrupts a waiting reader", "[control][frame]") {
    Pair p;
    Pair wake;
    std::thread t([&] {
        std::this_thread::sleep_for(50ms);
        wake.raw("x");
    });
    std::string body;
    CHECK(read_frame(p.b, body, Clock::time_point::max(), 1s, wake.b) == FrameStatus::woken);
    t.join();
}

TEST_CASE("frames: a writer whose peer never reads gives up at its deadline", "[control][frame]") {
    Pair p;
    // Fill the socket buffer: a frame of 1 MiB cannot fit in it.
    CHECK(write_frame(p.a, std::string(max_frame_bytes, 'x'), 200ms) == FrameStatus::timeout);
}
