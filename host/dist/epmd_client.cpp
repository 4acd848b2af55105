#include "epmd_client.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace otpp::dist {

EpmdError::EpmdError(std::string what) : otpp::Error(std::move(what)) {}

namespace {

using namespace std::chrono_literals;

std::vector<std::uint8_t> request(std::uint8_t tag, std::string_view body = {}) {
    std::vector<std::uint8_t> req;
    req.push_back(tag);
    req.insert(req.end(), body.begin(), body.end());
    return req;
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return std::string("killed by signal ") + ::strsignal(WTERMSIG(status));
    return "status " + std::to_string(status);
}

}  // namespace

std::uint16_t epmd_port_from_env() {
    const char* v = std::getenv("ERL_EPMD_PORT");
    if (!v || !*v) return EPMD_DEFAULT_PORT;
    std::string_view s(v);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
    if (ec != std::errc{} || end != s.data() + s.size() || port == 0 || port > 65535)
        throw EpmdError("ERL_EPMD_PORT='" + std::string(s) + "' is not a port number (1-65535)");
    return static_cast<std::uint16_t>(port);
}

EpmdEndpoint EpmdEndpoint::local() { return EpmdEndpoint{Ipv4::loopback(), epmd_port_from_env()}; }

bool epmd_answers(const EpmdEndpoint& epmd, const Deadline& deadline) {
    try {
        connect_tcp(epmd.address, epmd.port, deadline);
        return true;
    } catch (const SocketError&) {
        return false;
    }
}

bool ensure_epmd(std::uint16_t port, const Deadline& deadline, const EnsureEpmdOptions& options) {
    const EpmdEndpoint epmd{Ipv4::loopback(), port};
    if (epmd_answers(epmd, deadline.min(Deadline(1s)))) return false;

    std::vector<std::string> args = {options.program, "-daemon", "-port", std::to_string(port)};
    args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    // The daemon must not hold our stdio (a test runner would wait for its
    // output pipes to close forever) nor any other fd of ours.
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, options.program.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw EpmdError("cannot run '" + options.program + " -daemon': " + std::strerror(rc));

    // `epmd -daemon` forks the daemon and its first process exits at once.
    std::string launcher = "still running";
    bool reaped = false;
    for (;;) {
        if (!reaped) {
            int status = 0;
            pid_t r = ::waitpid(pid, &status, WNOHANG);
            if (r == pid) {
                reaped = true;
                launcher = describe_status(status);
            }
        }
        if (epmd_answers(epmd, deadline.min(Deadline(200ms)))) break;
        if (deadline.expired()) {
            if (!reaped) {
                // Ours, by pid: never leave a half-started launcher behind.
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
            }
            throw EpmdError("started '" + options.program + " -daemon -port " + std::to_string(port) +
                            "' but nothing answered on " + epmd.to_string() + " in time (the launcher " + launcher +
                            ")");
        }
        std::this_thread::sleep_for(10ms);
    }
    if (!reaped) {
        // The launcher exits right after forking; do not leave a zombie.
        Deadline reap(1s);
        while (::waitpid(pid, nullptr, WNOHANG) == 0 && !reap.expired()) std::this_thread::sleep_for(5ms);
    }
    return true;
}

EpmdRegistration EpmdRegistration::register_node(std::string_view alive, std::uint16_t port,
                                                 const Deadline& deadline, const RegisterOptions& options) {
    if (alive.empty() || alive.size() > 255) throw EpmdError("cannot register an empty or overlong name in epmd");
    Socket s = connect_tcp(options.epmd.address, options.epmd.port, deadline);
    std::vector<std::uint8_t> req;
    req.push_back(EPMD_ALIVE2_REQ);
    put_u16(req, port);
    req.push_back(options.node_type);
    req.push_back(options.protocol);
    put_u16(req, options.highest_version);
    put_u16(req, options.lowest_version);
    put_u16(req, static_cast<std::uint16_t>(alive.size()));
    req.insert(req.end(), alive.begin(), alive.end());
    put_u16(req, static_cast<std::uint16_t>(options.extra.size()));
    req.insert(req.end(), options.extra.begin(), options.extra.end());
    write_frame16(s.fd(), req, deadline);

    std::uint8_t head[2];
    try {
        read_exact(s.fd(), head, deadline);
    } catch (const ConnectionClosed&) {
        throw EpmdError("epmd at " + options.epmd.to_string() + " closed the connection instead of answering ALIVE2_REQ for '" +
                        std::string(alive) + "'");
    }
    if (head[0] != EPMD_ALIVE2_X_RESP && head[0] != EPMD_ALIVE2_RESP)
        throw EpmdError("epmd at " + options.epmd.to_string() + " answered ALIVE2_REQ with tag " +
                        std::to_string(head[0]) + " (expected 118 or 121)");
    if (head[1] != 0)
        throw EpmdError("epmd at " + options.epmd.to_string() + " refused to register '" + std::string(alive) +
                        "' (result " + std::to_string(head[1]) +
                        "): the name seems to be in use by another Erlang node");
    std::uint32_t creation = 0;
    if (head[0] == EPMD_ALIVE2_X_RESP) {
        std::uint8_t c[4];
        read_exact(s.fd(), c, deadline);
        creation = get_u32(c);
    } else {
        std::uint8_t c[2];
        read_exact(s.fd(), c, deadline);
        creation = get_u16(c);
    }
    return EpmdRegistration(std::move(s), std::string(alive), port, creation);
}

std::optional<NodePort> port_please(std::string_view alive, const Deadline& deadline, const EpmdEndpoint& epmd) {
    Socket s = connect_tcp(epmd.address, epmd.port, deadline);
    write_frame16(s.fd(), request(EPMD_PORT_PLEASE2_REQ, alive), deadline);
    std::uint8_t head[2];
    try {
        read_exact(s.fd(), head, deadline);
    } catch (const ConnectionClosed&) {
        throw EpmdError("epmd at " + epmd.to_string() + " closed the connection instead of answering PORT_PLEASE2_REQ");
    }
    if (head[0] != EPMD_PORT2_RESP)
        throw EpmdError("epmd at " + epmd.to_string() + " answered PORT_PLEASE2_REQ with tag " +
                        std::to_string(head[0]) + " (expected 119)");
    if (head[1] != 0) return std::nullopt;
    std::uint8_t fixed[10];
    read_exact(s.fd(), fixed, deadline);
    NodePort out;
    out.port = get_u16(fixed);
    out.node_type = fixed[2];
    out.protocol = fixed[3];
    out.highest_version = get_u16(fixed + 4);
    out.lowest_version = get_u16(fixed + 6);
    out.name.resize(get_u16(fixed + 8));
    read_exact(s.fd(), std::span(reinterpret_cast<std::uint8_t*>(out.name.data()), out.name.size()), deadline);
    std::uint8_t elen[2];
    read_exact(s.fd(), elen, deadline);
    out.extra.resize(get_u16(elen));
    read_exact(s.fd(), out.extra, deadline);
    return out;
}

std::vector<std::pair<std::string, std::uint16_t>> epmd_names(const Deadline& deadline, const EpmdEndpoint& epmd) {
    Socket s = connect_tcp(epmd.address, epmd.port, deadline);
    write_frame16(s.fd(), request(EPMD_NAMES_REQ), deadline);
    std::vector<std::uint8_t> reply = read_to_eof(s.fd(), deadline);
    if (reply.size() < 4)
        throw EpmdError("epmd at " + epmd.to_string() + " sent a short NAMES_RESP (" + std::to_string(reply.size()) +
                        " bytes)");
    std::string text(reply.begin() + 4, reply.end());
    std::vector<std::pair<std::string, std::uint16_t>> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        pos = nl == std::string::npos ? text.size() : nl + 1;
        // "name <Name> at port <Port>"
        static constexpr std::string_view prefix = "name ", middle = " at port ";
        if (line.compare(0, prefix.size(), prefix) != 0) continue;
        std::size_t m = line.rfind(middle);
        if (m == std::string::npos || m < prefix.size()) continue;
        unsigned port = 0;
        const char* first = line.data() + m + middle.size();
        auto [end, ec] = std::from_chars(first, line.data() + line.size(), port);
        if (ec != std::errc{} || port > 65535) continue;
        out.emplace_back(line.substr(prefix.size(), m - prefix.size()), static_cast<std::uint16_t>(port));
    }
    return out;
}

}  // namespace otpp::dist
