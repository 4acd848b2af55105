// otpp_cluster_node: one otpp node (a Runtime and dist::Distribution) in its
// own OS process, driven by commands on stdin, for the cluster tests
// (test_cluster.cpp) -- several of them make a real cluster on loopback.
//
//   otpp_cluster_node --sname NAME --cookie COOKIE [--ticktime-s N]
//
// Prints "READY <node>" once distributed, then reads one command a line and
// answers each with one "RESULT <command> <value>" line, in order. Things
// that happen meanwhile are "EVENT ..." lines:
//   EVENT nodeup|nodedown <node>
//   EVENT holder_down <name> <reason>     a holder process (below) died
//   EVENT holder_exit <name> <reason>     a trapping holder got an exit signal
//   EVENT leader <name> <node>            an `elect` candidate became the leader
//   EVENT deposed <name> <node>           ... and lost the name in a merge (conflict rule)
// Commands (MS: a timeout in milliseconds):
//   connect NODE                  -> true | false
//   nodes                         -> [Node, ...] sorted
//   await_nodes N MS              -> the sorted list once N nodes are connected (or at the timeout)
//   register NAME                 -> a new holder process registered as NAME: true | false
//   register_trap NAME            -> the same with a holder that traps exits
//   unregister NAME               -> ok
//   whereis NAME                  -> the node of the process registered as NAME, or undefined
//   await_whereis NAME NODE MS    -> whereis, once it answers NODE (or undefined) or at the timeout;
//                                    NODE `defined`: once it answers any node
//   await_moved NAME NODE MS      -> whereis, once it answers a node other than NODE (not undefined)
//   names                         -> [Name, ...]
//   await_peers N MS              -> the otpp nodes this node's global registry has exchanged
//                                    hellos with, once there are N (or at the timeout)
//   send NAME TEXT                -> send_global(NAME, {echo, Self, TEXT}); the node of whoever
//                                    answered, badarg (no such name) or timeout
//   holder_alive NAME             -> whether the last holder started here for NAME lives
//   kill_holder NAME              -> killed (exit(Holder, kill)), once it is dead
//   elect NAME                    -> started: a candidate that keeps NAME registered to itself
//                                    while it lives, or waits for its holder to die and tries again
//   quit                          -> bye, then the node stops
// End of input stops the node too.
#include <distribution.hpp>

#include <otpp/node.hpp>
#include <otpp/process.hpp>
#include <otpp/runtime.hpp>
#include <otpp/scoped_process.hpp>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

using namespace otpp;
using namespace std::chrono_literals;

namespace {

std::mutex out_mutex;

void say(const std::string& line) {
    std::lock_guard lock(out_mutex);
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

std::string node_of(std::optional<Pid> p) { return p ? std::string(node(*p).name()) : "undefined"; }

std::string sorted_list(std::vector<Atom> atoms) {
    std::sort(atoms.begin(), atoms.end());
    std::string out = "[";
    for (std::size_t i = 0; i < atoms.size(); ++i) out += (i ? "," : "") + std::string(atoms[i].name());
    return out + "]";
}

const Atom echo_atom("echo"), echoed_atom("echoed"), holder_atom("holder");

// A process registered globally by the tests: answers {echo, From, Text}
// with {echoed, Node, Text}; a trapping one reports its exit signals.
void holder_loop(Atom name, bool trap) {
    if (trap) trap_exit(true);
    for (;;) {
        Term m = receive();
        if (m.is_tuple(3) && m[0].is_atom(echo_atom) && m[1].is_pid())
            send(m[1].get<Pid>(), Term::tuple({echoed_atom, node(), m[2]}));
        else if (m.is_tuple(3) && m[0].is_atom(atoms::EXIT))
            say("EVENT holder_exit " + std::string(name.name()) + " " + m[2].to_string());
    }
}

// A holder, watched: its death is an EVENT.
Pid start_holder(Atom name, bool trap) {
    Pid me = self();
    spawn([me, name, trap] {
        auto [holder, mon] = spawn_monitor([name, trap] { holder_loop(name, trap); });
        send(me, Term::tuple({holder_atom, holder}));
        Term down = receive([mon](const Term& t) { return t.is_tuple(5) && t[1] == Term(mon); });
        say("EVENT holder_down " + std::string(name.name()) + " " + down[4].to_string());
    });
    Term m = receive([](const Term& t) { return t.is_tuple(2) && t[0].is_atom(holder_atom); });
    return m[1].get<Pid>();
}

// Leader election: hold `name` while alive; otherwise watch its holder and
// try again when it dies (a lost node gives DOWN with noconnection). A
// leader that loses the name when two partitions merge is told (it traps
// exits) and follows again.
void candidate(Atom name) {
    trap_exit(true);
    for (;;) {
        if (register_global(name, self())) {
            say("EVENT leader " + std::string(name.name()) + " " + std::string(node().name()));
            for (bool leading = true; leading;) {
                Term m = receive();
                if (m.is_tuple(3) && m[0].is_atom(echo_atom) && m[1].is_pid())
                    send(m[1].get<Pid>(), Term::tuple({echoed_atom, node(), m[2]}));
                if (m.is_tuple(3) && m[0].is_atom(atoms::EXIT) && m[2].is_tuple(2) &&
                    m[2][0].is_atom(Atom("global_name_conflict"))) {
                    say("EVENT deposed " + std::string(name.name()) + " " + std::string(node().name()));
                    leading = false;
                }
            }
            continue;
        }
        auto leader = whereis_global(name);
        if (!leader) {
            sleep_for(20ms);  // registered nowhere yet, or a node still forgets the old leader
            continue;
        }
        Ref mon = monitor(*leader);
        receive([mon](const Term& t) { return t.is_tuple(5) && t[0].is_atom(atoms::DOWN) && t[1] == Term(mon); });
    }
}

void watch_nodes() {
    monitor_nodes(true);
    for (;;) {
        Term m = receive();
        if (m.is_tuple(2) && m[0].is_atom() && m[1].is_atom())
            say("EVENT " + std::string(m[0].get<Atom>().name()) + " " + std::string(m[1].get<Atom>().name()));
    }
}

template <class F, class Done>
std::string poll_until(std::chrono::milliseconds timeout, F&& attempt, Done&& done) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        std::string got = attempt();
        if (done(got) || std::chrono::steady_clock::now() >= deadline) return got;
        sleep_for(10ms);
    }
}

int run(dist::DistributionOptions options) {
    Runtime runtime{RuntimeOptions{.schedulers = 2}};
    dist::Distribution distribution(runtime.kernel(), options);
    distribution.start();
    ScopedProcess me;
    spawn(watch_nodes);
    say("READY " + std::string(node().name()));

    std::map<Atom, Pid> holders;
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string cmd, a, b, c;
        in >> cmd >> a >> b >> c;
        if (cmd.empty()) continue;
        std::string result;
        try {
            if (cmd == "connect") {
                result = connect_node(Atom(a)) ? "true" : "false";
            } else if (cmd == "nodes") {
                result = sorted_list(nodes());
            } else if (cmd == "await_nodes") {
                std::size_t n = std::stoul(a);
                auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stol(b));
                while (nodes().size() != n && std::chrono::steady_clock::now() < deadline) sleep_for(10ms);
                result = sorted_list(nodes());
            } else if (cmd == "register" || cmd == "register_trap") {
                Pid h = start_holder(Atom(a), cmd == "register_trap");
                holders[Atom(a)] = h;
                result = register_global(Atom(a), h) ? "true" : "false";
            } else if (cmd == "unregister") {
                unregister_global(Atom(a));
                result = "ok";
            } else if (cmd == "whereis") {
                result = node_of(whereis_global(Atom(a)));
            } else if (cmd == "await_whereis" || cmd == "await_moved") {
                Atom name(a);
                bool moved = cmd == "await_moved";
                result = poll_until(
                    std::chrono::milliseconds(std::stol(c)), [&] { return node_of(whereis_global(name)); },
                    [&](const std::string& got) {
                        if (moved) return got != b && got != "undefined";
                        return b == "defined" ? got != "undefined" : got == b;
                    });
            } else if (cmd == "await_peers") {
                std::size_t n = std::stoul(a);
                auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stol(b));
                while (distribution.global_registry()->peers().size() != n &&
                       std::chrono::steady_clock::now() < deadline)
                    sleep_for(10ms);
                result = sorted_list(distribution.global_registry()->peers());
            } else if (cmd == "names") {
                result = sorted_list(global_names());
            } else if (cmd == "send") {
                try {
                    send_global(Atom(a), Term::tuple({echo_atom, self(), Term(b)}));
                    auto r = receive([](const Term& t) { return t.is_tuple(3) && t[0].is_atom(echoed_atom); }, 5s);
                    result = r ? std::string((*r)[1].get<Atom>().name()) : "timeout";
                } catch (const BadArg&) {
                    result = "badarg";
                }
            } else if (cmd == "holder_alive") {
                auto it = holders.find(Atom(a));
                result = it != holders.end() && is_process_alive(it->second) ? "true" : "false";
            } else if (cmd == "kill_holder") {
                auto it = holders.find(Atom(a));
                if (it == holders.end()) {
                    result = "no_holder";
                } else {
                    Ref mon = monitor(it->second);
                    exit(it->second, atoms::kill);
                    receive([mon](const Term& t) { return t.is_tuple(5) && t[1] == Term(mon); });
                    result = "killed";
                }
            } else if (cmd == "elect") {
                Atom name(a);
                spawn([name] { candidate(name); });
                result = "started";
            } else if (cmd == "quit") {
                say("RESULT quit bye");
                break;
            } else {
                result = "unknown_command";
            }
        } catch (const std::exception& e) {
            result = std::string("error ") + e.what();
        }
        say("RESULT " + cmd + " " + result);
    }
    distribution.stop();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    dist::DistributionOptions options;
    options.net_ticktime = std::chrono::seconds(10);
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--sname") == 0) options.name = argv[i + 1];
        else if (std::strcmp(argv[i], "--cookie") == 0) options.cookie = argv[i + 1];
        else if (std::strcmp(argv[i], "--ticktime-s") == 0) options.net_ticktime = std::chrono::seconds(std::stoi(argv[i + 1]));
        else {
            std::fprintf(stderr, "usage: otpp_cluster_node --sname NAME --cookie COOKIE [--ticktime-s N]\n");
            return 2;
        }
    }
    if (options.name.empty()) {
        std::fprintf(stderr, "otpp_cluster_node: --sname is required\n");
        return 2;
    }
    // The log goes to stderr, whole lines (no colours): stdout is the protocol.
    spdlog::set_default_logger(spdlog::stderr_logger_mt("cluster_node"));
    spdlog::set_pattern("[%H:%M:%S.%e] [" + options.name + "] [%l] %v");
    try {
        return run(options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "otpp_cluster_node: %s\n", e.what());
        return 1;
    }
}
