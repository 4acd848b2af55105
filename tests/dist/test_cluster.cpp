// Clusters of real otpp nodes on loopback: each node is an otpp_cluster_node
// process (cluster_node.cpp: a Runtime and a Distribution, driven by
// commands on stdin), so connections, EPMD and node loss are the real thing.
// Global names across three nodes and the name moving when its node is
// killed (SIGKILL), leader election with nodedown takeover, partitions that
// registered the same name and merge, and racing registrations. Every node is
// killed at the end of its test, whatever happens.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include "dist_peer.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <memory>
#include <mutex>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

using namespace otpp::dist;
using namespace otpp::dist::test;

namespace {

// Writing to a node that was killed must fail with EPIPE, not kill the test.
const bool sigpipe_ignored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
}();

class ClusterNode;
// The nodes alive now: their output is printed at a test's first failure.
std::mutex live_mutex;
std::vector<ClusterNode*> live;

std::string random_cookie() { return "GC" + std::to_string(::getpid()) + "X" + std::to_string(std::rand()); }

// One otpp_cluster_node in its own process group; the destructor kills the
// group (SIGKILL) and reaps it.
class ClusterNode {
public:
    ClusterNode(const std::string& alive, const std::string& cookie) : alive_(alive) {
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
            throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
        std::vector<std::string> args = {OTPP_CLUSTER_NODE, "--sname", alive, "--cookie", cookie};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_adddup2(&fa, out[1], 2);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
        int rc = ::posix_spawn(&pid_, args[0].c_str(), &fa, &attr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        ::close(in[0]);
        ::close(out[1]);
        in_ = in[1];
        out_ = out[0];
        if (rc != 0) {
            pid_ = -1;
            throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
        }
        try {
            std::string ready = line_starting("READY ", Deadline(std::chrono::seconds(20)));
            node_ = ready.substr(6);
        } catch (...) {
            kill();  // no destructor runs for a constructor that throws
            ::close(in_);
            ::close(out_);
            throw;
        }
        std::lock_guard lock(live_mutex);
        live.push_back(this);
    }
    ~ClusterNode() {
        {
            std::lock_guard lock(live_mutex);
            std::erase(live, this);
        }
        kill();
        if (in_ >= 0) ::close(in_);
        if (out_ >= 0) ::close(out_);
    }
    ClusterNode(const ClusterNode&) = delete;
    ClusterNode& operator=(const ClusterNode&) = delete;

    const std::string& node() const noexcept { return node_; }
    const std::string& output() const noexcept { return output_; }

    // Sends a command; its answer comes with result().
    void command(const std::string& line) {
        std::string l = line + "\n";
        if (::write(in_, l.data(), l.size()) != static_cast<ssize_t>(l.size()))
            throw std::runtime_error(node_ + ": cannot write '" + line + "': " + std::strerror(errno));
    }
    // The value of the next "RESULT <cmd> ..." line.
    std::string result(const std::string& cmd, std::chrono::seconds timeout = std::chrono::seconds(30)) {
        std::string l = line_starting("RESULT " + cmd + " ", Deadline(timeout));
        return l.substr(8 + cmd.size());
    }
    std::string ask(const std::string& line, std::chrono::seconds timeout = std::chrono::seconds(30)) {
        command(line);
        return result(line.substr(0, line.find(' ')), timeout);
    }
    // Waits for an EVENT line equal to "EVENT <event>" (seen before or later).
    bool saw_event(const std::string& event, std::chrono::seconds timeout = std::chrono::seconds(20)) {
        Deadline deadline(timeout);
        const std::string want = "EVENT " + event;
        for (;;) {
            if (std::find(events_.begin(), events_.end(), want) != events_.end()) return true;
            if (deadline.expired() || !read_some(deadline)) return false;
        }
    }
    bool has_event(const std::string& event) {
        drain();
        return std::find(events_.begin(), events_.end(), "EVENT " + event) != events_.end();
    }
    // Reads what has arrived, without waiting.
    void drain() {
        for (;;) {
            pollfd p{out_, POLLIN, 0};
            if (out_ < 0 || ::poll(&p, 1, 0) <= 0 || !read_some(Deadline(std::chrono::milliseconds(0)))) return;
        }
    }
    void kill() noexcept {
        if (pid_ > 0) {
            ::kill(-pid_, SIGKILL);
            int st = 0;
            ::waitpid(pid_, &st, 0);
            pid_ = -1;
        }
    }

private:
    // Reads until a complete line starting with `prefix` has arrived (lines
    // before it are consumed; EVENT lines are kept).
    std::string line_starting(const std::string& prefix, const Deadline& deadline) {
        for (;;) {
            while (next_line_ < lines_.size()) {
                const std::string& l = lines_[next_line_++];
                if (l.rfind(prefix, 0) == 0) return l;
            }
            if (deadline.expired())
                throw std::runtime_error(alive_ + ": no '" + prefix + "' line in time; output:\n" + output_);
            if (!read_some(deadline))
                throw std::runtime_error(alive_ + ": exited before a '" + prefix + "' line; output:\n" + output_);
        }
    }
    bool read_some(const Deadline& deadline) {
        if (out_ < 0) return false;
        pollfd p{out_, POLLIN, 0};
        int n = ::poll(&p, 1, deadline.poll_timeout_ms());
        if (n <= 0) return true;
        char buf[4096];
        ssize_t r = ::read(out_, buf, sizeof buf);
        if (r < 0 && errno == EINTR) return true;
        if (r <= 0) {
            ::close(out_);
            out_ = -1;
            return false;
        }
        output_.append(buf, static_cast<std::size_t>(r));
        partial_.append(buf, static_cast<std::size_t>(r));
        for (std::size_t nl; (nl = partial_.find('\n')) != std::string::npos; partial_.erase(0, nl + 1)) {
            std::string l = partial_.substr(0, nl);
            if (l.rfind("EVENT ", 0) == 0) events_.push_back(l);
            lines_.push_back(std::move(l));
        }
        return true;
    }

    std::string alive_, node_;
    pid_t pid_ = -1;
    int in_ = -1, out_ = -1;
    std::string output_, partial_;
    std::vector<std::string> lines_, events_;
    std::size_t next_line_ = 0;
};

// At a test's first failed assertion: every live node's output (commands'
// results, events, its log) on stderr.
class DumpOnFailure : public Catch::TestEventListenerBase {
public:
    using TestEventListenerBase::TestEventListenerBase;
    void testCaseStarting(const Catch::TestCaseInfo& info) override {
        dumped_ = false;
        TestEventListenerBase::testCaseStarting(info);
    }
    bool assertionEnded(const Catch::AssertionStats& stats) override {
        if (!stats.assertionResult.isOk() && !dumped_) {
            dumped_ = true;
            std::lock_guard lock(live_mutex);
            for (ClusterNode* n : live) {
                n->drain();
                std::cerr << "---- output of " << n->node() << " ----\n" << n->output() << "\n";
            }
        }
        return true;
    }

private:
    bool dumped_ = false;
};

// Three nodes: b and c connect to a; the mesh completes (b-c) by itself.
struct Three {
    std::string cookie = random_cookie();
    ClusterNode a{unique_alive("gla"), cookie}, b{unique_alive("glb"), cookie}, c{unique_alive("glc"), cookie};
    std::vector<ClusterNode*> all{&a, &b, &c};
};

}  // namespace

CATCH_REGISTER_LISTENER(DumpOnFailure)

TEST_CASE("three otpp nodes share global names: killing the node of a holder frees its names and the name moves",
          "[dist][cluster]") {
    Three t;
    INFO("nodes " << t.a.node() << " " << t.b.node() << " " << t.c.node());
    // a and b first; c joins later and must learn what is registered.
    // Once two nodes' registries have exchanged hellos (await_peers),
    // a registration returns only when the other node knows it.
    REQUIRE(t.b.ask("connect " + t.a.node()) == "true");
    REQUIRE(t.a.ask("await_peers 1 10000") == "[" + t.b.node() + "]");
    REQUIRE(t.b.ask("await_peers 1 10000") == "[" + t.a.node() + "]");
    REQUIRE(t.a.ask("register foo") == "true");
    // register_global returns once every node knows: no waiting here.
    CHECK(t.b.ask("whereis foo") == t.a.node());
    CHECK(t.b.ask("register foo") == "false");  // taken
    CHECK(t.b.ask("register bar") == "true");
    CHECK(t.a.ask("whereis bar") == t.b.node());

    // c connects to b only; the registries connect it to a, and it learns both names.
    REQUIRE(t.c.ask("connect " + t.b.node()) == "true");
    for (auto* n : t.all) CHECK(n->ask("await_nodes 2 10000").find(',') != std::string::npos);
    for (auto* n : t.all) CHECK(n->ask("await_peers 2 10000").find(',') != std::string::npos);
    CHECK(t.c.ask("await_whereis foo " + t.a.node() + " 5000") == t.a.node());
    CHECK(t.c.ask("await_whereis bar " + t.b.node() + " 5000") == t.b.node());
    CHECK(t.c.ask("names") == "[bar,foo]");
    CHECK(t.c.ask("register foo") == "false");
    // Sending by global name reaches the holder wherever it is.
    CHECK(t.c.ask("send foo hello") == t.a.node());
    CHECK(t.a.ask("send bar hello") == t.b.node());
    CHECK(t.a.ask("send nobody hello") == "badarg");

    // Unregistering from another node than the owner's.
    CHECK(t.c.ask("unregister bar") == "ok");
    CHECK(t.a.ask("whereis bar") == "undefined");
    CHECK(t.b.ask("whereis bar") == "undefined");
    CHECK(t.b.ask("holder_alive bar") == "true");  // unregistered, not killed

    // A holder that dies frees its name everywhere.
    CHECK(t.b.ask("register gone") == "true");
    CHECK(t.c.ask("whereis gone") == t.b.node());
    CHECK(t.b.ask("kill_holder gone") == "killed");
    CHECK(t.b.ask("await_whereis gone undefined 5000") == "undefined");
    CHECK(t.c.ask("await_whereis gone undefined 5000") == "undefined");
    CHECK(t.a.ask("await_whereis gone undefined 5000") == "undefined");
    CHECK(t.b.ask("unregister nothing_here") == "ok");
    CHECK(t.b.ask("register baz") == "true");

    // The owner's node is killed: the others see nodedown, the name is freed...
    t.a.kill();
    CHECK(t.b.saw_event("nodedown " + t.a.node()));
    CHECK(t.c.saw_event("nodedown " + t.a.node()));
    CHECK(t.b.ask("await_whereis foo undefined 10000") == "undefined");
    CHECK(t.c.ask("await_whereis foo undefined 10000") == "undefined");
    CHECK(t.c.ask("names") == "[baz]");
    // ... and it moves: registered again, on b, seen at once on c.
    CHECK(t.b.ask("register foo") == "true");
    CHECK(t.c.ask("whereis foo") == t.b.node());
    CHECK(t.c.ask("send foo again") == t.b.node());
}

TEST_CASE("leader election: one leader among three, and killing its node hands leadership to a survivor, twice",
          "[dist][cluster]") {
    Three t;
    REQUIRE(t.b.ask("connect " + t.a.node()) == "true");
    REQUIRE(t.c.ask("connect " + t.a.node()) == "true");
    for (auto* n : t.all) REQUIRE(n->ask("await_peers 2 10000").find(',') != std::string::npos);
    for (auto* n : t.all) REQUIRE(n->ask("elect leader") == "started");

    // Everybody agrees on one leader, and only that one says it leads.
    std::string first = t.a.ask("await_whereis leader defined 10000");
    for (auto* n : t.all) REQUIRE(n->ask("await_whereis leader " + first + " 10000") == first);
    REQUIRE(first != "undefined");
    ClusterNode* l1 = nullptr;
    for (auto* n : t.all) {
        if (n->node() == first) l1 = n;
    }
    REQUIRE(l1 != nullptr);
    CHECK(l1->saw_event("leader leader " + first));
    for (auto* n : t.all)
        if (n != l1) CHECK_FALSE(n->has_event("leader leader " + n->node()));

    // The leader's node dies: a survivor takes over.
    l1->kill();
    std::vector<ClusterNode*> survivors;
    for (auto* n : t.all)
        if (n != l1) survivors.push_back(n);
    for (auto* n : survivors) CHECK(n->saw_event("nodedown " + first));
    std::string second = survivors[0]->ask("await_moved leader " + first + " 15000");
    REQUIRE(second != first);
    REQUIRE(second != "undefined");
    for (auto* n : survivors) CHECK(n->ask("await_whereis leader " + second + " 10000") == second);
    ClusterNode* l2 = survivors[0]->node() == second ? survivors[0] : survivors[1];
    ClusterNode* last = l2 == survivors[0] ? survivors[1] : survivors[0];
    CHECK(l2->saw_event("leader leader " + second));

    // And again: the last node standing leads.
    l2->kill();
    CHECK(last->saw_event("nodedown " + second));
    CHECK(last->saw_event("leader leader " + last->node()));
    CHECK(last->ask("await_whereis leader " + last->node() + " 10000") == last->node());
}

TEST_CASE("two partitions that registered the same names merge: the older registration keeps each name",
          "[dist][cluster]") {
    std::string cookie = random_cookie();
    ClusterNode a(unique_alive("mpa"), cookie), b(unique_alive("mpb"), cookie);
    // Apart: each registers `dup` and `dup2` -- b first for dup, a first for
    // dup2. b's `dup` holder traps exits (it is told), a's `dup2` does not
    // (it is killed).
    REQUIRE(b.ask("register_trap dup") == "true");
    REQUIRE(a.ask("register dup2") == "true");
    REQUIRE(a.ask("register dup") == "true");
    REQUIRE(b.ask("register_trap dup2") == "true");
    CHECK(a.ask("whereis dup") == a.node());
    CHECK(b.ask("whereis dup2") == b.node());

    // They meet: the older registrations stay, on both nodes.
    REQUIRE(b.ask("connect " + a.node()) == "true");
    for (auto* n : {&a, &b}) {
        CHECK(n->ask("await_whereis dup " + b.node() + " 10000") == b.node());
        CHECK(n->ask("await_whereis dup2 " + a.node() + " 10000") == a.node());
    }
    // The losers: a's `dup` is killed, b's trapping `dup2` is told and lives on.
    CHECK(a.saw_event("holder_down dup {global_name_conflict,dup}"));
    CHECK(b.saw_event("holder_exit dup2 {global_name_conflict,dup2}"));
    CHECK(b.ask("holder_alive dup2") == "true");
    CHECK(b.ask("holder_alive dup") == "true");
    CHECK(a.ask("holder_alive dup2") == "true");
    CHECK(a.ask("send dup x") == b.node());
    CHECK(b.ask("send dup2 x") == a.node());
    CHECK_FALSE(b.has_event("holder_exit dup {global_name_conflict,dup}"));
}

TEST_CASE("leader election across a partition: the merged cluster keeps the older leader, the other follows",
          "[dist][cluster]") {
    std::string cookie = random_cookie();
    ClusterNode a(unique_alive("epa"), cookie), b(unique_alive("epb"), cookie);
    REQUIRE(b.ask("elect leader") == "started");
    REQUIRE(b.saw_event("leader leader " + b.node()));
    REQUIRE(a.ask("elect leader") == "started");
    REQUIRE(a.saw_event("leader leader " + a.node()));  // alone, a elects itself too
    REQUIRE(a.ask("connect " + b.node()) == "true");
    // b's leadership is older: a is deposed (its candidate traps the notice) and follows.
    CHECK(a.saw_event("deposed leader " + a.node()));
    for (auto* n : {&a, &b}) CHECK(n->ask("await_whereis leader " + b.node() + " 10000") == b.node());
    CHECK_FALSE(b.has_event("deposed leader " + b.node()));
    // And the follower takes over when b goes.
    b.kill();
    CHECK(a.saw_event("nodedown " + b.node()));
    CHECK(a.ask("await_whereis leader " + a.node() + " 10000") == a.node());
}

TEST_CASE("racing registrations of one name on three nodes: exactly one wins, everyone agrees", "[dist][cluster]") {
    Three t;
    REQUIRE(t.b.ask("connect " + t.a.node()) == "true");
    REQUIRE(t.c.ask("connect " + t.a.node()) == "true");
    for (auto* n : t.all) REQUIRE(n->ask("await_peers 2 10000").find(',') != std::string::npos);
    for (int round = 0; round < 20; ++round) {
        std::string name = "race" + std::to_string(round);
        for (auto* n : t.all) n->command("register " + name);
        std::string winner;
        int wins = 0;
        for (auto* n : t.all)
            if (n->result("register") == "true") {
                ++wins;
                winner = n->node();
            }
        REQUIRE(wins == 1);
        for (auto* n : t.all) CHECK(n->ask("whereis " + name) == winner);
    }
}

TEST_CASE("a BEAM node connected to otpp nodes takes no part in their registry and slows nothing",
          "[dist][cluster][beam]") {
    Three t;
    std::string beam_alive = unique_alive("glbeam");
    ErlNode erl(erl_args(beam_alive, t.cookie,
                         "io:format(\"UP~n\"), receive stop -> ok after 60000 -> ok end, halt()."));
    erl.read_until("UP", Deadline(std::chrono::seconds(30)));
    const std::string beam = beam_alive + "@" + short_host();
    REQUIRE(t.b.ask("connect " + t.a.node()) == "true");
    REQUIRE(t.c.ask("connect " + t.a.node()) == "true");
    for (auto* n : t.all) REQUIRE(n->ask("connect " + beam) == "true");
    for (auto* n : t.all) REQUIRE(n->ask("await_peers 2 10000").find(',') != std::string::npos);
    // The BEAM node is connected to all three, yet only the otpp nodes are peers.
    for (auto* n : t.all) CHECK(n->ask("nodes").find(beam) != std::string::npos);
    for (auto* n : t.all) CHECK(n->ask("await_peers 2 1000").find(beam) == std::string::npos);
    auto start = std::chrono::steady_clock::now();
    CHECK(t.a.ask("register with_beam") == "true");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    for (auto* n : t.all) CHECK(n->ask("whereis with_beam") == t.a.node());
    // The BEAM node dropped what our registries sent it, without a word
    // (whatever it printed meanwhile is read for 300 ms).
    try {
        erl.read_until("never printed", Deadline(std::chrono::milliseconds(300)));
    } catch (const std::runtime_error&) {
    }
    erl.kill();
    INFO(erl.output());
    CHECK(erl.output().find("error") == std::string::npos);
    CHECK(erl.output().find("rror") == std::string::npos);
}
