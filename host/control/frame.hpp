// Frames of the control protocol (docs/CONSOLE.md): a 4-byte big-endian
// length, then that many bytes of UTF-8 text holding one Erlang term.
//
// Both ends use these with deadlines, never a blocking read or write: the host
// must not be held by a client that stops half-way through a frame, and a
// client must not hang on a host that stopped answering. `wake_fd` (optional)
// is polled too; when it becomes readable the call gives up with `woken`
// (how the host's shutdown interrupts its client threads).
//
// Thread-safe (no shared state). Never raises SIGPIPE (MSG_NOSIGNAL).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace otpp::control {

// A request larger than this is refused.
inline constexpr std::size_t max_frame_bytes = std::size_t{1} << 20;
// Replies may be larger: `ps` of a node with 100,000 processes is ~20 MiB.
inline constexpr std::size_t max_reply_bytes = std::size_t{64} << 20;

enum class FrameStatus {
    ok,
    closed,     // end of stream before the first byte of a frame: a clean goodbye
    truncated,  // end of stream in the middle of a frame
    idle,       // no frame started before the first deadline
    timeout,    // a frame started but did not complete in time
    too_large,  // the length prefix exceeds the limit (the body is not read)
    woken,      // wake_fd became readable
    error,      // a socket error (errno is kept in the message)
};

const char* to_string(FrameStatus s) noexcept;

using Clock = std::chrono::steady_clock;

// Reads one frame into `body`. Waits for its first byte until `first_byte`
// (Clock::time_point::max(): forever), then gives the rest `rest` to arrive.
FrameStatus read_frame(int fd, std::string& body, Clock::time_point first_byte, std::chrono::milliseconds rest,
                       int wake_fd = -1, std::size_t limit = max_frame_bytes);

// Writes one frame within `limit`. ok, too_large, timeout, woken or error.
FrameStatus write_frame(int fd, std::string_view body, std::chrono::milliseconds limit, int wake_fd = -1,
                        std::size_t max_bytes = max_frame_bytes);

}  // namespace otpp::control
