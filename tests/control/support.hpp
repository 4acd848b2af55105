// A runtime with a control server on a private socket, a test GenServer, and
// a raw protocol client: what the in-process control tests share.
#pragma once

#include <backtrace.hpp>
#include <endpoint.hpp>
#include <frame.hpp>
#include <server.hpp>

#include <otpp/gen_server.hpp>
#include <otpp/process.hpp>
#include <otpp/runtime.hpp>
#include <otpp/scoped_process.hpp>
#include <otpp/supervisor.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace otpp::control::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// echo: a GenServer holding a number.
//   call get -> N; call {add, K} -> N + K; call {sleep, Ms} -> slept (blocks
//   the server); cast {set, N}; format_status shows #{n => N, shown_by => format_status}.
// Its atoms exist from the start, as a plugin's do (interned when it loads):
// requests may only name atoms the node already has.
inline const Atom echo_get{"get"}, echo_add{"add"}, echo_sleep{"sleep"}, echo_set{"set"}, echo_info_set{"info_set"};

struct Echo {
    struct State {
        int64_t n = 0;
        OTPP_TERM_FIELDS(n)
    };
    static gen_server::Init<State> init(const Term& args) { return State{args.try_get<int64_t>().value_or(0)}; }
    static gen_server::CallReply handle_call(const Term& req, const gen_server::From&, State& s) {
        int64_t k = 0;
        if (req.is_atom(echo_get)) return gen_server::reply(s.n);
        if (match::tuple(echo_add, match::bind(k))(req)) return gen_server::reply(s.n += k);
        if (match::tuple(echo_sleep, match::bind(k))(req)) {
            sleep_for(std::chrono::milliseconds(k));
            return gen_server::reply(Atom("slept"));
        }
        return gen_server::reply(Term::tuple({atoms::error, Atom("bad_request")}));
    }
    static void handle_cast(const Term& msg, State& s) {
        int64_t k = 0;
        if (match::tuple(echo_set, match::bind(k))(msg)) s.n = k;
    }
    static void handle_info(const Term& msg, State& s) {
        int64_t k = 0;
        if (match::tuple(echo_info_set, match::bind(k))(msg)) s.n = k;
    }
    static Term format_status(const State& s) {
        return Term::map({{Atom("n"), s.n}, {Atom("shown_by"), Atom("format_status")}});
    }
};

inline const ModuleDescriptor& echo_module() {
    static const ModuleDescriptor d = gen_server::module<Echo>("echo", "1.2.3");
    return d;
}

inline fs::path fresh_dir(const char* what) {
    static int n = 0;
    fs::path d = fs::temp_directory_path() / ("otpp-ctl-" + std::string(what) + "-" + std::to_string(::getpid()) +
                                              "-" + std::to_string(n++));
    fs::remove_all(d);
    return d;
}

struct ServerFixture {
    fs::path dir = fresh_dir("srv");
    Runtime runtime{[] {
        RuntimeOptions o;
        o.schedulers = 2;
        return o;
    }()};
    std::unique_ptr<ScopedProcess> me = std::make_unique<ScopedProcess>();
    Pid sup;
    std::unique_ptr<ControlServer> server;

    explicit ServerFixture(ServerOptions options = {}) {
        gen_server::register_builtin(echo_module());
        trap_exit(true);
        auto r = supervisor::start_link(
            Term::parse("#{strategy => one_for_one, children => [#{id => e1, start => {echo, 7}}]}"),
            Atom("testapp"));
        REQUIRE(r.ok());
        sup = r.pid();
        auto e = gen_server::start(Atom("echo"), 5, gen_server::StartOptions{.name = Atom("echo_named")});
        REQUIRE(e.ok());
        prepare_runtime_dir(dir / "run");
        options.socket_path = socket_path(dir / "run", "t@localhost");
        server = std::make_unique<ControlServer>(options, ControlContext{&runtime, "t@localhost", {Atom("testapp")}});
    }
    ~ServerFixture() {
        server.reset();
        me.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    const fs::path& socket() const { return server->socket_path(); }
};

// One raw connection.
struct Client {
    int fd = -1;
    explicit Client(const fs::path& socket) { fd = connect_to(socket); }
    ~Client() {
        if (fd >= 0) ::close(fd);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    bool raw(const std::string& bytes) const {
        return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
    }
    // The next reply, or nullopt with the frame status in `status`.
    std::optional<Term> reply(FrameStatus* status = nullptr, std::chrono::milliseconds wait = 30s) const {
        std::string body;
        FrameStatus s = read_frame(fd, body, Clock::now() + wait, 30s);
        if (status) *status = s;
        if (s != FrameStatus::ok) return std::nullopt;
        return Term::parse(body);
    }
    Term rpc(const Term& request, std::chrono::milliseconds wait = 30s) const {
        REQUIRE(write_frame(fd, request.to_string(), 5s) == FrameStatus::ok);
        auto r = reply(nullptr, wait);
        REQUIRE(r.has_value());
        return *r;
    }
    Term rpc(const char* text) const { return rpc(Term::parse(text)); }
};

inline bool is_ok(const Term& reply) { return reply.is_tuple(2) && reply[0].is_atom(atoms::ok); }
inline bool is_error(const Term& reply) {
    return reply.is_tuple(2) && reply[0].is_atom(atoms::error) && reply[1].is_binary();
}
inline std::string message(const Term& reply) { return is_error(reply) ? std::string(reply[1].bytes()) : ""; }
inline const Term& result(const Term& reply) {
    REQUIRE(is_ok(reply));
    return reply[1];
}
inline const Term& get(const Term& map, const char* key) {
    REQUIRE(map.is_map());
    const Term* v = map.find(Atom(key));
    REQUIRE(v != nullptr);
    return *v;
}

}  // namespace otpp::control::test
