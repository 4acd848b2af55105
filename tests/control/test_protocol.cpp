// The control protocol (docs/CONSOLE.md), spoken raw to a ControlServer:
// every command, its errors, and every way a client can misbehave.
#include "support.hpp"

#include <otpp/log.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cstring>

#include <atomic>
#include <thread>
#include <vector>

using namespace otpp;
using namespace otpp::control;
using namespace otpp::control::test;

namespace {

Pid echo_pid() {
    auto p = whereis(Atom("echo_named"));
    REQUIRE(p.has_value());
    return *p;
}

std::string pid_text(Pid p) { return to_string(p); }

Term req(const char* cmd, std::vector<Term> args = {}) {
    return Term::tuple({Atom(cmd), Term::list(std::move(args))});
}

}  // namespace

TEST_CASE("protocol: the socket is 0600 in a 0700 directory", "[control][protocol]") {
    ServerFixture f;
    struct stat st {};
    REQUIRE(::stat(f.socket().c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(f.socket().parent_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("protocol: hello names the node, the protocol and the commands", "[control][protocol]") {
    ServerFixture f;
    Client c(f.socket());
    Term r = result(c.rpc("{hello, []}"));
    CHECK(get(r, "node") == Term::binary("t@localhost"));
    CHECK(get(r, "protocol") == Term(protocol_version));
    CHECK(get(r, "os_pid") == Term(static_cast<int64_t>(::getpid())));
    std::string names = get(r, "commands").to_string();
    for (const char* cmd : {"ps", "info", "kill", "exit", "send", "cast", "call", "modules", "load", "upgrade",
                            "purge", "soft_purge", "tree", "stats", "log_level"})
        CHECK(names.find(cmd) != std::string::npos);
}

TEST_CASE("protocol: ps lists every process with its module, version and counters", "[control][protocol]") {
    ServerFixture f;
    Client c(f.socket());
    Term rows = result(c.rpc("{ps, []}"));
    REQUIRE(rows.is_list());
    bool found = false;
    for (const Term& row : rows.elements()) {
        if (get(row, "pid") != Term(echo_pid())) continue;
        found = true;
        CHECK(get(row, "name") == Term(Atom("echo_named")));
        CHECK(get(row, "module") == Term::binary("echo"));
        CHECK(get(row, "version") == Term::binary("1.2.3"));
        CHECK(get(row, "status").is_atom());
        CHECK(get(row, "mailbox").is_integer());
        CHECK(get(row, "reductions").is_integer());
        CHECK(get(row, "memory").get<int64_t>() > 0);
    }
    CHECK(found);
    CHECK(rows.size() >= 4);  // us, the supervisor, its echo, echo_named, this request
}

TEST_CASE("protocol: info gives the process, its state through format_status, and no stack while it waits",
          "[control][protocol]") {
    ServerFixture f;
    Client c(f.socket());
    send(echo_pid(), Term::tuple({Atom("info_set"), 99}));
    // "No stack while it waits": let it handle what it was sent and wait
    // again first. Each info asks the server for its state (format_status),
    // so before each: the server may still be on its way back from the last
    // one's request when the reply has already arrived (seen on slow
    // builds: ASan, and while other builds ran).
    auto settle = [&] {
        for (int i = 0; i < 1000; ++i) {
            auto pi = f.runtime.process_info(echo_pid());
            if (pi && pi->status == ProcessStatus::waiting && pi->message_queue_len == 0) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    };
    // By name, by pid term, and by the pid's text.
    for (Term target : {Term(Atom("echo_named")), Term(echo_pid()), Term::binary(pid_text(echo_pid()))}) {
        settle();
        Term info = result(c.rpc(req("info", {target})));
        CHECK(get(info, "pid") == Term(echo_pid()));
        CHECK(get(info, "module") == Term::binary("echo"));
        CHECK(get(info, "version") == Term::binary("1.2.3"));
        CHECK(get(info, "status").is_atom());
        CHECK(get(info, "links").is_list());
        CHECK(get(info, "initial_call").is_binary());
        const Term& bt = get(info, "backtrace");
        CHECK(get(bt, "captured") == Term(false));
        CHECK(std::string(get(bt, "note").bytes()).find("not running") != std::string::npos);
        const Term& status = get(info, "state");
        REQUIRE(status.is_map());
        const Term* state = status.find(Atom("state"));
        REQUIRE(state != nullptr);
        CHECK(*state == Term::parse("#{n => 99, shown_by => format_status}"));
    }
}

TEST_CASE("protocol: info of a plain process has no state", "[control][protocol]") {
    ServerFixture f;
    Pid plain = spawn([] { receive(); });
    Client c(f.socket());
    Term info = result(c.rpc(req("info", {plain})));
    CHECK(get(info, "module") == Term::binary(""));
    CHECK(get(info, "state") == Term(atoms::undefined));
    send(plain, Atom("stop"));
}

TEST_CASE("protocol: call, cast and send reach the server", "[control][protocol]") {
    ServerFixture f;
    Client c(f.socket());
    CHECK(result(c.rpc(req("call", {Term::binary("echo_named"), Atom("get")}))) == Term(5));
    CHECK(result(c.rpc(req("call", {Term::binary("echo_named"), Term::parse("{add, 10}"), 2000}))) == Term(15));
    result(c.rpc(req("cast", {Term::binary("echo_named"), Term::parse("{set, 100}")})));
    CHECK(result(c.rpc(req("call", {Term::binary("echo_named"), Atom("get")}))) == Term(100));
    result(c.rpc(req("send", {Term::binary("echo_named"), Term::parse("{info_set, 7}")})));
    CHECK(result(c.rpc(req("call", {Term::binary("echo_named"), Atom("get")}))) == Term(7));
}

TEST_CASE("protocol: a call that times out is an error, and the connection goes on", "[control][protocol]") {
    ServerFixture f;
    Client c(f.socket());
    Term r = c.rpc(req("call", {Term::binary("echo_named"), Term::parse("{sleep, 1000}"), 50}));
    CHECK(is_error(r));
    CHECK(message(r).find("timeout") != std::string::npos);
    CHECK(is_ok(c.rpc("{ps, []}")));
}

TEST_CASE("protocol: kill and exit", "[control][protocol]") {
    ServerFixture f;
    Client c(f.socket());
    Pid victim = spawn([] { receive(); });
    Term k = result(c.rpc(req("kill", {victim})));
    CHECK(get(k, "dead") == Term(true));
    CHECK(get(k, "reason") == Term(atoms::killed));
    CHECK_FALSE(is_process_alive(victim));

    Pid other = spawn([] { receive(); });
    Ref mon = monitor(other);
    result(c.rpc(req("exit", {Term::binary(pid_text(other)), Term::parse("{shutdown, because}")})));
    auto down = receive(match::tuple(atoms::DOWN, mon, match::_, match::_, match::_), 10s);
    REQUIRE(down.has_value());
    CHECK((*down)[4] == Term::parse("{shutdown, because}"));

    CHECK(message(c.rpc(req("kill", {victim}))).find("no such process") != std::string::npos);

    // A thread acting as a process (here: this test's) is not the console's to kill.
    CHECK(message(c.rpc(req("kill", {f.me->pid()}))).find("ScopedProcess") != std::string::npos);
    CHECK(message(c.rpc(req("exit", {f.me->pid(), Atom("bye")}))).find("ScopedProcess") != std::string::npos);
    CHECK(is_process_alive(f.me->pid()));
}

TEST_CASE("protocol: targets that name nothing are errors", "[control][protocol]") {
    ServerFixture f;
    Client c(f.socket());
    CHECK(message(c.rpc(req("info", {Term::binary("nobody_has_this_name")}))).find("no process is registered") !=
          std::string::npos);
    CHECK(message(c.rpc(req("info", {Term::binary("<0.1")}))).find("not a pid") != std::string::npos);
    CHECK(message(c.rpc(req("info", {Term::parse("<0.999999.0>")}))).find("no such process") != std::string::npos);
    CHECK(message(c.rpc(req("info", {42}))).find("expected a pid") != std::string::npos);
}

TEST_CASE("protocol: tree walks the application's supervisor", "[control][protocol]") {
    ServerFixture f;
    Client c(f.socket());
    Term apps = result(c.rpc("{tree, []}"));
    REQUIRE(apps.size() == 1);
    const Term& app = apps[0];
    CHECK(get(app, "id") == Term(Atom("testapp")));
    CHECK(get(app, "pid") == Term(f.sup));
    const Term& children = get(app, "children");
    REQUIRE(children.size() == 1);
    CHECK(get(children[0], "id") == Term(Atom("e1")));
    CHECK(get(children[0], "pid").is_pid());
    CHECK(get(children[0], "type") == Term(Atom("worker")));
}

TEST_CASE("protocol: stats", "[control][protocol]") {
    ServerFixture f;
    Client c(f.socket());
    Term s = result(c.rpc("{stats, []}"));
    CHECK(get(s, "schedulers") == Term(2));
    CHECK(get(s, "run_queues").size() == 3);
    CHECK(get(s, "process_count").get<int64_t>() >= 4);
    CHECK(get(s, "os_resident_bytes").get<int64_t>() > 0);
    CHECK(get(s, "loaded_libraries").is_integer());
    CHECK(get(s, "node") == Term::binary("t@localhost"));
}

TEST_CASE("protocol: log_level reads and sets the host's level", "[control][protocol]") {
    ServerFixture f;
    Client c(f.socket());
    const std::string before = log::level();
    CHECK(get(result(c.rpc("{log_level, []}")), "level") == Term::binary(before));
    CHECK(get(result(c.rpc("{log_level, [<<\"error\">>]}")), "level") == Term::binary("error"));
    CHECK(log::level() == "error");
    CHECK(message(c.rpc("{log_level, [<<\"loud\">>]}")).find("unknown log level") != std::string::npos);
    log::set_level(before);
}

TEST_CASE("protocol: modules lists built-in modules, code commands report their errors", "[control][protocol]") {
    ServerFixture f;
    Client c(f.socket());
    Term mods = result(c.rpc("{modules, []}"));
    bool echo = false;
    for (const Term& m : mods.elements())
        if (get(m, "module") == Term(Atom("echo"))) {
            echo = true;
            CHECK(get(get(m, "current"), "version") == Term::binary("1.2.3"));
            CHECK(get(get(m, "current"), "built_in") == Term(true));
            CHECK(get(get(m, "current"), "pins").get<int64_t>() >= 2);
            CHECK(get(m, "old") == Term(atoms::undefined));
        }
    CHECK(echo);
    CHECK(is_error(c.rpc("{load, [<<\"/nonexistent/x.so\">>]}")));
    CHECK(message(c.rpc("{purge, [<<\"module_nobody_loaded_ever\">>]}")).find("no module named") != std::string::npos);
    CHECK(is_error(c.rpc("{soft_purge, [<<\"module_nobody_loaded_ever\">>]}")));
    Term up = c.rpc("{upgrade, [<<\"echo\">>, <<\"/nonexistent/echo.so\">>, #{}]}");
    // A file that cannot be loaded: refused, nothing changed.
    if (is_ok(up)) CHECK(get(result(up), "outcome") == Term(Atom("refused")));
    CHECK(is_error(c.rpc("{upgrade, [<<\"echo\">>, <<\"/x.so\">>, #{mode => sideways}]}")));
    CHECK(is_error(c.rpc("{upgrade, [<<\"echo\">>, <<\"/x.so\">>, #{bogus => 1}]}")));
}

TEST_CASE("protocol: malformed requests get an error reply and the connection stays usable", "[control][protocol]") {
    ServerFixture f;
    Client c(f.socket());
    const char* bad[] = {"{ps, [", "ps", "{ps}", "{ps, not_a_list}", "{<<\"ps\">>, []}", "{nosuch, []}",
                         "{ps, [extra]}", "{info, []}", "", "\xff\xfe\x00garbage"};
    for (const char* b : bad) {
        INFO(b);
        REQUIRE(write_frame(c.fd, b, 5s) == FrameStatus::ok);
        auto r = c.reply();
        REQUIRE(r.has_value());
        CHECK(is_error(*r));
    }
    CHECK(is_ok(c.rpc("{ps, []}")));
}

TEST_CASE("protocol: an oversized frame is answered with an error, then the connection is closed",
          "[control][protocol]") {
    ServerFixture f;
    {
        Client c(f.socket());
        REQUIRE(c.raw("\x7f\xff\xff\xff"));
        auto r = c.reply();
        REQUIRE(r.has_value());
        CHECK(message(*r).find("1 MiB") != std::string::npos);
        FrameStatus st{};
        CHECK_FALSE(c.reply(&st).has_value());
        CHECK(st == FrameStatus::closed);
    }
    Client again(f.socket());
    CHECK(is_ok(again.rpc("{ps, []}")));
}

TEST_CASE("protocol: half-open, idle and vanishing clients do not hold the host", "[control][protocol]") {
    ServerOptions o;
    o.idle_timeout = 300ms;
    o.frame_timeout = 300ms;
    o.max_clients = 4;
    ServerFixture f(o);
    {
        // Idle: closed by the host after idle_timeout.
        Client idle(f.socket());
        FrameStatus st{};
        CHECK_FALSE(idle.reply(&st, 30s).has_value());
        CHECK(st == FrameStatus::closed);
    }
    {
        // Half a frame: closed after frame_timeout.
        Client half(f.socket());
        REQUIRE(half.raw(std::string("\0\0\0\x40{ps", 7)));
        FrameStatus st{};
        CHECK_FALSE(half.reply(&st, 30s).has_value());
        CHECK(st == FrameStatus::closed);
    }
    // Disconnecting mid-request, many times over: slots come back.
    for (int i = 0; i < 20; ++i) {
        Client gone(f.socket());
        REQUIRE(gone.raw(std::string("\0\0\0\x40{ps", 7)));
    }
    for (int i = 0; i < 20; ++i) {
        Client asked(f.socket());
        REQUIRE(asked.raw(std::string("\0\0\0\x08{ps, []}", 12)));  // a whole request, reply never read
    }
    // Eventually (after the host notices) a normal client is served.
    bool served = false;
    for (int attempt = 0; attempt < 100 && !served; ++attempt) {
        Client c(f.socket());
        if (write_frame(c.fd, "{ps, []}", 5s) != FrameStatus::ok) continue;
        auto r = c.reply(nullptr, 10s);
        served = r && is_ok(*r);
        if (!served) std::this_thread::sleep_for(100ms);
    }
    CHECK(served);
}

TEST_CASE("protocol: connections beyond max_clients are refused with an error, not queued", "[control][protocol]") {
    ServerOptions o;
    o.max_clients = 3;
    ServerFixture f(o);
    std::vector<std::unique_ptr<Client>> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(std::make_unique<Client>(f.socket()));
        CHECK(is_ok(held.back()->rpc("{hello, []}")));  // each one is being served
    }
    Client extra(f.socket());
    auto r = extra.reply();
    REQUIRE(r.has_value());
    CHECK(message(*r).find("too many connections") != std::string::npos);
    held.pop_back();
    bool served = false;
    for (int attempt = 0; attempt < 100 && !served; ++attempt) {
        // Until the host has noticed the freed slot, a newcomer may still be
        // refused (and closed before its request is even written).
        Client c(f.socket());
        auto rr = write_frame(c.fd, "{hello, []}", 5s) == FrameStatus::ok ? c.reply() : std::nullopt;
        served = rr && is_ok(*rr);
        if (!served) std::this_thread::sleep_for(50ms);
    }
    CHECK(served);
}

TEST_CASE("protocol: many clients at once are all served", "[control][protocol]") {
    ServerFixture f;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 12; ++t)
        threads.emplace_back([&] {
            Client c(f.socket());
            for (int i = 0; i < 10; ++i) {
                if (write_frame(c.fd, "{call, [<<\"echo_named\">>, get]}", 5s) != FrameStatus::ok) return;
                auto r = c.reply();
                if (r && is_ok(*r)) ++ok;
            }
        });
    for (auto& t : threads) t.join();
    CHECK(ok.load() == 120);
}

TEST_CASE("protocol: a blocking call does not hold other clients", "[control][protocol]") {
    ServerFixture f;
    // The supervisor's echo sleeps; the other client asks echo_named and ps.
    Term children = supervisor::which_children(f.sup);
    REQUIRE(children.size() == 1);
    const Pid e1 = children[0][1].get<Pid>();
    std::atomic<bool> slow_done{false};
    Term slow_reply;
    std::thread slow([&] {
        Client c(f.socket());
        slow_reply = c.rpc(req("call", {e1, Term::parse("{sleep, 3000}"), 20000}));
        slow_done = true;
    });
    std::this_thread::sleep_for(200ms);
    Client fast(f.socket());
    CHECK(is_ok(fast.rpc("{ps, []}")));
    CHECK(result(fast.rpc(req("call", {Term::binary("echo_named"), Atom("get")}))) == Term(5));
    CHECK_FALSE(slow_done.load());  // 3 s of sleep versus two quick round trips
    slow.join();
    CHECK(result(slow_reply) == Term(Atom("slept")));
}

TEST_CASE("protocol: stopping the server interrupts waiting requests and joins promptly", "[control][protocol]") {
    ServerFixture f;
    std::thread waiting([&] {
        Client c(f.socket());
        REQUIRE(write_frame(c.fd, "{call, [<<\"echo_named\">>, {sleep, 600000}, 600000]}", 5s) == FrameStatus::ok);
        FrameStatus st{};
        auto r = c.reply(&st, 120s);
        // Either told why, or closed: never left hanging.
        if (r) CHECK(is_error(*r));
    });
    Client idle(f.socket());
    CHECK(is_ok(idle.rpc("{hello, []}")));
    std::this_thread::sleep_for(300ms);
    auto t0 = std::chrono::steady_clock::now();
    f.server->stop();
    CHECK(std::chrono::steady_clock::now() - t0 < 60s);
    waiting.join();
    CHECK_FALSE(fs::exists(f.socket()));
    CHECK(connect_to(f.socket()) < 0);
}

TEST_CASE("protocol: a second server on a live socket is refused, a stale socket is replaced", "[control][protocol]") {
    ServerFixture f;
    ServerOptions o;
    o.socket_path = f.socket();
    CHECK_THROWS_WITH(ControlServer(o, ControlContext{&f.runtime, "t@localhost", {}}),
                      Catch::Contains("another host is serving"));
    // The live one is unharmed.
    Client c(f.socket());
    CHECK(is_ok(c.rpc("{hello, []}")));

    // A stale socket: bound, never listened on, its owner gone.
    fs::path stale = f.dir / "run" / "stale@localhost.sock";
    int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, stale.c_str());
    REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::close(s);
    REQUIRE(fs::exists(stale));
    o.socket_path = stale;
    ControlServer second(o, ControlContext{&f.runtime, "stale@localhost", {}});
    Client c2(stale);
    CHECK(is_ok(c2.rpc("{hello, []}")));

    // Not a socket: left alone.
    fs::path file = f.dir / "run" / "file@localhost.sock";
    { std::FILE* fp = std::fopen(file.c_str(), "w"); REQUIRE(fp); std::fclose(fp); }
    o.socket_path = file;
    CHECK_THROWS_WITH(ControlServer(o, ControlContext{&f.runtime, "x", {}}), Catch::Contains("not a socket"));
    CHECK(fs::exists(file));
}

TEST_CASE("protocol: only the owner's uid and root may connect", "[control][protocol][root]") {
    if (::geteuid() != 0) {
        WARN("not root: cannot switch to another uid to test the refusal");
        return;
    }
    ServerFixture f;
    // Open the filesystem path to everyone, so that only the peer-credential check stands in the way.
    fs::permissions(f.dir, fs::perms::all);
    fs::permissions(f.dir / "run", fs::perms::all);
    fs::permissions(f.socket(), fs::perms::all);
    // root is the owner here; the child becomes nobody. "R" = refused with the
    // reason, "S" = served, "C" = could not connect, "E" = no reply.
    auto as_nobody = [&]() -> char {
        int pipefd[2];
        REQUIRE(::pipe(pipefd) == 0);
        pid_t child = ::fork();
        if (child == 0) {
            ::close(pipefd[0]);
            char verdict = 'E';
            if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
            int fd = connect_to(f.socket());
            if (fd < 0) {
                verdict = 'C';
            } else {
                const char frame[] = "\0\0\0\x0b{hello, []}";
                (void)!::send(fd, frame, sizeof frame - 1, MSG_NOSIGNAL);
                // No allocation in the child of a threaded process: a fixed
                // buffer, and the body searched in place.
                char buf[512];
                std::size_t total = 0;
                ssize_t n;
                while (total < sizeof buf - 1 && (n = ::recv(fd, buf + total, sizeof buf - 1 - total, 0)) > 0)
                    total += static_cast<std::size_t>(n);
                buf[total] = 0;
                const char* body = total > 4 ? buf + 4 : "";
                verdict = std::strstr(body, "permission denied") ? 'R' : std::strstr(body, "{ok,") ? 'S' : 'E';
            }
            (void)!::write(pipefd[1], &verdict, 1);
            ::_exit(0);
        }
        ::close(pipefd[1]);
        char verdict = '?';
        (void)!::read(pipefd[0], &verdict, 1);
        ::close(pipefd[0]);
        int status = 0;
        ::waitpid(child, &status, 0);
        return verdict;
    };
    CHECK(as_nobody() == 'R');
    // ... and root itself is served.
    Client c(f.socket());
    CHECK(is_ok(c.rpc("{hello, []}")));
    // With the default modes the filesystem already keeps nobody out.
    fs::permissions(f.dir / "run", fs::perms::owner_all);
    CHECK(as_nobody() == 'C');
}

TEST_CASE("protocol: top measures on the host and sends only the busiest processes", "[control][protocol]") {
    ServerFixture f;
    std::atomic<bool> stop{false};
    Pid busy = spawn([&stop] {
        while (!stop.load(std::memory_order_relaxed)) yield_point();
    });
    Client c(f.socket());
    Term rows = result(c.rpc("{top, [300, 2]}"));
    stop = true;
    REQUIRE(rows.is_list());
    REQUIRE(rows.size() == 2);
    CHECK(get(rows[0], "pid") == Term(busy));
    CHECK(get(rows[0], "reductions_delta").get<int64_t>() >= get(rows[1], "reductions_delta").get<int64_t>());
    CHECK(is_error(c.rpc("{top, [0, 2]}")));   // an interval of 0 ms
    CHECK(is_error(c.rpc("{top, [100]}")));    // arity
}

TEST_CASE("protocol: replies may exceed the 1 MiB request limit (ps of a big node)", "[control][protocol]") {
    ServerFixture f;
    std::vector<Pid> idle;
    for (int i = 0; i < 12000; ++i) idle.push_back(spawn([] { receive(); }));
    Client c(f.socket());
    REQUIRE(write_frame(c.fd, Term::parse("{ps, []}").to_string(), 5s) == FrameStatus::ok);
    std::string body;
    REQUIRE(read_frame(c.fd, body, Clock::now() + 30s, 30s, -1, max_reply_bytes) == FrameStatus::ok);
    CHECK(body.size() > max_frame_bytes);
    Term rows = result(Term::parse(body));
    CHECK(rows.size() >= 12000);
    for (Pid p : idle) exit(p, atoms::kill);
}

TEST_CASE("protocol: a runtime directory open to other users is refused", "[control][protocol]") {
    fs::path d = fresh_dir("open");
    fs::create_directories(d);
    ::chmod(d.c_str(), 0755);
    CHECK_THROWS_WITH(prepare_runtime_dir(d), Catch::Contains("open to other users"));
    ::chmod(d.c_str(), 0700);
    CHECK_NOTHROW(prepare_runtime_dir(d));
    fs::remove_all(d);
}
