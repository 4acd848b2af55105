#include "dist_peer.hpp"

#include <epmd_client.hpp>
#include <node_name.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace otpp::dist::test {

std::string unique_alive(std::string_view tag) {
    static std::atomic<int> counter{0};
    return "otpphs_" + std::string(tag) + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

std::string short_host() { return HostNames::of_this_host().short_name; }

ErlNode::ErlNode(std::vector<std::string> args, std::vector<std::string> env) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    std::vector<std::string> all = {OTPP_ERL_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) envs.emplace_back(*e);
    envs.insert(envs.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);  // its own group: the destructor kills erl and its helpers
    int rc = ::posix_spawn(&pid_, all[0].c_str(), &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        throw std::runtime_error("cannot start " + all[0] + ": " + std::strerror(rc));
    }
    out_fd_ = fds[0];
}

ErlNode::~ErlNode() {
    kill();
    if (out_fd_ >= 0) ::close(out_fd_);
}

void ErlNode::kill() noexcept {
    if (pid_ > 0 && !reaped_) {
        ::kill(-pid_, SIGKILL);  // the group we made for it, by its id
        int st = 0;
        if (::waitpid(pid_, &st, 0) == pid_) status_ = st;
        reaped_ = true;
    }
}

bool ErlNode::read_some(const Deadline& deadline) {
    if (out_fd_ < 0) return false;
    pollfd p{out_fd_, POLLIN, 0};
    int n = ::poll(&p, 1, deadline.poll_timeout_ms());
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) return true;  // timeout: the caller checks the deadline
    char buf[4096];
    ssize_t r = ::read(out_fd_, buf, sizeof buf);
    if (r > 0) {
        out_.append(buf, static_cast<std::size_t>(r));
        return true;
    }
    if (r < 0 && errno == EINTR) return true;
    ::close(out_fd_);
    out_fd_ = -1;
    return false;
}

std::string ErlNode::read_until(std::string_view needle, const Deadline& deadline) {
    while (out_.find(needle) == std::string::npos) {
        if (deadline.expired())
            throw std::runtime_error("erl did not print '" + std::string(needle) + "' in time; output:\n" + out_);
        if (!read_some(deadline))
            throw std::runtime_error("erl exited before printing '" + std::string(needle) + "'; output:\n" + out_);
    }
    return out_;
}

std::string ErlNode::wait_exit(const Deadline& deadline) {
    while (read_some(deadline)) {
        if (deadline.expired()) {
            kill();
            throw std::runtime_error("erl did not exit in time; output:\n" + out_);
        }
    }
    while (!reaped_) {
        int st = 0;
        pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            reaped_ = true;
            status_ = st;
            break;
        }
        if (deadline.expired()) {
            kill();
            throw std::runtime_error("erl closed its output but did not exit in time; output:\n" + out_);
        }
        std::this_thread::sleep_for(5ms);
    }
    return out_;
}

std::vector<std::string> erl_args(const std::string& alive, const std::string& cookie, const std::string& eval) {
    return {"-sname", alive, "-setcookie", cookie, "-noshell", "-eval", eval};
}

ServeStats serve_until_closed(int fd, const Deadline& deadline) {
    ServeStats stats;
    for (;;) {
        std::vector<std::uint8_t> packet;
        try {
            packet = read_frame32(fd, deadline);
        } catch (const ConnectionClosed&) {
            return stats;
        }
        if (packet.empty()) {
            ++stats.ticks;
            try {
                write_frame32(fd, {}, deadline);
            } catch (const ConnectionClosed&) {
                return stats;
            }
        } else {
            ++stats.messages;
        }
    }
}

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "otpp-hs-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    // Files we made read-only (0400) are still removable: the directory is ours.
    std::filesystem::remove_all(path_, ec);
}

ScopedEnv::ScopedEnv(std::string name, std::optional<std::string> value) : name_(std::move(name)) {
    if (const char* v = std::getenv(name_.c_str())) old_ = v;
    if (value)
        ::setenv(name_.c_str(), value->c_str(), 1);
    else
        ::unsetenv(name_.c_str());
}

ScopedEnv::~ScopedEnv() {
    if (old_)
        ::setenv(name_.c_str(), old_->c_str(), 1);
    else
        ::unsetenv(name_.c_str());
}

std::uint16_t free_port() {
    Socket s = listen_tcp(Ipv4::loopback(), 0, 1);
    return local_port(s.fd());
}

void kill_epmd(std::uint16_t port, const Deadline& deadline) {
    const EpmdEndpoint epmd{Ipv4::loopback(), port};
    // epmd answers "NO" while it still has names registered (it forgets a
    // closed registration shortly after the close): ask until it says "OK".
    for (;;) {
        std::vector<std::uint8_t> reply;
        try {
            Socket s = connect_tcp(epmd.address, epmd.port, deadline);
            std::vector<std::uint8_t> req{EPMD_KILL_REQ};
            write_frame16(s.fd(), req, deadline);
            reply = read_to_eof(s.fd(), deadline);
        } catch (const TimeoutError&) {
            throw;
        } catch (const SocketError&) {
            return;  // nothing answers any more
        }
        if (std::string(reply.begin(), reply.end()) == "OK") break;
        if (deadline.expired()) throw std::runtime_error("epmd on port " + std::to_string(port) + " refused to stop");
        std::this_thread::sleep_for(20ms);
    }
    while (epmd_answers(epmd, deadline.min(Deadline(100ms)))) {
        if (deadline.expired()) throw std::runtime_error("epmd on port " + std::to_string(port) + " did not stop");
        std::this_thread::sleep_for(10ms);
    }
}

ChildProcess::ChildProcess(std::vector<std::string> argv, std::filesystem::path out) : out_(std::move(out)) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, argv.at(0).c_str(), &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

std::string ChildProcess::output() const {
    std::ifstream in(out_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

bool ChildProcess::wait_output(const std::string& needle, const Deadline& deadline) const {
    while (output().find(needle) == std::string::npos) {
        if (deadline.expired()) return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

int ChildProcess::wait_exit(const Deadline& deadline) {
    for (;;) {
        int st = 0;
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
            pid_ = -1;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        if (deadline.expired()) return -1;
        std::this_thread::sleep_for(10ms);
    }
}

void ChildProcess::terminate() noexcept {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
}

}  // namespace otpp::dist::test
