// What the connection set-up tests share: a real erl started as a child
// (always killed, even when a test fails), unique node names, a temporary
// HOME, environment overrides, and a loop that keeps a freshly handshaken
// connection alive (answers ticks) until the peer closes it.
#pragma once

#include <blocking_socket.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace otpp::dist::test {

using namespace std::chrono_literals;

// "otpphs_<tag>_<pid>_<n>": unique per test process and call, so parallel
// ctest runs sharing one epmd never collide.
std::string unique_alive(std::string_view tag);

// This host's short name, as erl -sname uses it ("vm").
std::string short_host();

// A real erl (OTPP_ERL_BINARY) in its own process group, stdout and stderr
// into one pipe. The destructor kills the group (SIGKILL) and reaps it if it
// is still running.
class ErlNode {
public:
    // `args` after the program name; `env` entries "K=V" are added to ours.
    explicit ErlNode(std::vector<std::string> args, std::vector<std::string> env = {});
    ~ErlNode();
    ErlNode(const ErlNode&) = delete;
    ErlNode& operator=(const ErlNode&) = delete;

    pid_t pid() const noexcept { return pid_; }
    // Reads output until it contains `needle`; returns all output so far.
    // Throws std::runtime_error (with the output) if the deadline passes or
    // erl exits first.
    std::string read_until(std::string_view needle, const Deadline& deadline);
    // Reads to EOF, reaps erl, returns all output. Throws (after killing erl)
    // if it has not exited by the deadline.
    std::string wait_exit(const Deadline& deadline);
    int exit_status() const noexcept { return status_; }
    const std::string& output() const noexcept { return out_; }
    void kill() noexcept;

private:
    bool read_some(const Deadline& deadline);  // false at EOF
    pid_t pid_ = -1;
    int out_fd_ = -1;
    bool reaped_ = false;
    int status_ = -1;
    std::string out_;
};

// A child process (argv[0] is the program's path), stdin from /dev/null,
// stdout and stderr into `out`; killed (SIGKILL) and reaped at the end if
// it is still running. For otpp-host and otppctl.
class ChildProcess {
public:
    ChildProcess(std::vector<std::string> argv, std::filesystem::path out);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    // All it has written so far.
    std::string output() const;
    // Polls output() until it contains `needle`; false at the deadline.
    bool wait_output(const std::string& needle, const Deadline& deadline) const;
    // The exit status (128 + N if killed by signal N), or -1 if it is still
    // running at the deadline.
    int wait_exit(const Deadline& deadline);
    void terminate() noexcept;  // SIGTERM

private:
    std::filesystem::path out_;
    pid_t pid_ = -1;
};

// erl -sname <alive> -setcookie <cookie> -noshell -eval <expr>.
std::vector<std::string> erl_args(const std::string& alive, const std::string& cookie, const std::string& eval);

// Keeps a connection up after its handshake: reads 4-byte frames, answers
// every tick (empty frame) with a tick, counts the other packets, until the
// peer closes the connection. Throws TimeoutError if it does not by the
// deadline.
struct ServeStats {
    int ticks = 0;
    int messages = 0;
};
ServeStats serve_until_closed(int fd, const Deadline& deadline);

// A temporary directory, removed with its contents at the end.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

// Sets (or, with nullopt, unsets) an environment variable for its lifetime.
class ScopedEnv {
public:
    ScopedEnv(std::string name, std::optional<std::string> value);
    ~ScopedEnv();
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string name_;
    std::optional<std::string> old_;
};

// A TCP port nothing listens on right now (bound to 0, read back, closed).
std::uint16_t free_port();

// Sends KILL_REQ to the epmd on 127.0.0.1:port (one the test started) and
// waits until it no longer answers.
void kill_epmd(std::uint16_t port, const Deadline& deadline);

}  // namespace otpp::dist::test
