// Links and exit signals, with OTP's semantics.
#include "support.hpp"

using namespace otpp;
using namespace otpp::test;

namespace {
Term exit_msg(Pid from, Term reason) { return Term::tuple({atoms::EXIT, from, std::move(reason)}); }
}  // namespace

TEST_CASE_METHOD(RuntimeFixture, "a normal exit does not kill a linked process", "[links]") {
    Pid parent = self();
    Pid survivor = spawn([parent] {
        Pid child = spawn_link([] {});  // exits normally at once
        (void)child;
        sleep_for(30ms);
        send(parent, Atom("still_alive"));
    });
    CHECK(expect_message() == Term(Atom("still_alive")));
    CHECK(wait_dead(survivor));
}

TEST_CASE_METHOD(RuntimeFixture, "an abnormal exit kills linked processes with the same reason", "[links]") {
    Pid parent = self();
    Pid middle = spawn([] {
        receive();  // go
        spawn_link([] { exit(Atom("boom")); });
        receive();  // never arrives: the link kills us first
    });
    Ref m = monitor(middle);
    send(middle, Atom("go"));
    CHECK(expect_message() == Term::tuple({atoms::DOWN, m, atoms::process, middle, Atom("boom")}));
    (void)parent;
}

TEST_CASE_METHOD(RuntimeFixture, "trap_exit turns exit signals into 'EXIT' messages", "[links]") {
    trap_exit(true);
    Pid child = spawn_link([] { exit(Atom("crashed")); });
    CHECK(expect_message() == exit_msg(child, Atom("crashed")));
    Pid normal = spawn_link([] {});
    CHECK(expect_message() == exit_msg(normal, atoms::normal));
    trap_exit(false);
}

TEST_CASE_METHOD(RuntimeFixture, "kill cannot be trapped and the victim dies with reason killed", "[links]") {
    Pid parent = self();
    Pid victim = spawn([parent] {
        trap_exit(true);
        send(parent, Atom("trapping"));
        for (;;) receive();
    });
    CHECK(expect_message() == Term(Atom("trapping")));
    Ref m = monitor(victim);
    exit(victim, atoms::kill);
    CHECK(expect_message() == Term::tuple({atoms::DOWN, m, atoms::process, victim, atoms::killed}));
}

TEST_CASE_METHOD(RuntimeFixture, "a trapped exit/2 arrives as a message, exit(Pid, normal) is ignored",
                 "[links]") {
    Pid parent = self();
    Pid p = spawn([parent] {
        trap_exit(true);
        send(parent, Atom("ready"));
        send(parent, receive());
    });
    CHECK(expect_message() == Term(Atom("ready")));
    exit(p, Atom("please"));
    CHECK(expect_message() == exit_msg(parent, Atom("please")));

    Pid q = spawn([parent] {
        send(parent, Atom("ready"));
        send(parent, receive());
    });
    CHECK(expect_message() == Term(Atom("ready")));
    exit(q, atoms::normal);  // not trapping: ignored
    send(q, Atom("still_here"));
    CHECK(expect_message() == Term(Atom("still_here")));
}

TEST_CASE_METHOD(RuntimeFixture, "killed propagates through links as an ordinary, trappable reason",
                 "[links]") {
    trap_exit(true);
    Pid parent = self();
    Pid victim = spawn_link([parent] {
        send(parent, Atom("up"));
        receive();
    });
    CHECK(expect_message() == Term(Atom("up")));
    exit(victim, atoms::kill);
    CHECK(expect_message() == exit_msg(victim, atoms::killed));
    trap_exit(false);
}

TEST_CASE_METHOD(RuntimeFixture, "unlink removes the link: the partner's death no longer matters",
                 "[links]") {
    Pid parent = self();
    spawn([parent] {
        Pid child = spawn_link([] {
            receive();
            exit(Atom("bad"));
        });
        unlink(child);
        send(child, Atom("die_now"));
        sleep_for(30ms);
        send(parent, Atom("survived"));
    });
    CHECK(expect_message() == Term(Atom("survived")));
}

TEST_CASE_METHOD(RuntimeFixture, "linking to a dead process gives noproc", "[links]") {
    Pid dead = spawn([] {});
    REQUIRE(wait_dead(dead));
    trap_exit(true);
    link(dead);
    CHECK(expect_message() == exit_msg(dead, atoms::noproc));
    trap_exit(false);

    Pid parent = self();
    Pid p = spawn([dead] { link(dead); });
    Ref m = monitor(p);
    CHECK(expect_message() == Term::tuple({atoms::DOWN, m, atoms::process, p, atoms::noproc}));
    (void)parent;
}

TEST_CASE_METHOD(RuntimeFixture, "signals between two processes keep their order: message then exit",
                 "[links][ordering]") {
    // Repeat: the ordering must hold every time, not just usually.
    trap_exit(true);
    Pid parent = self();
    for (int round = 0; round < 200; ++round) {
        Pid child = spawn_link([parent, round] {
            send(parent, Term::tuple({Atom("last_words"), round}));
            exit(Atom("done"));
        });
        CHECK(expect_message() == Term::tuple({Atom("last_words"), round}));
        CHECK(expect_message() == exit_msg(child, Atom("done")));
    }
    trap_exit(false);
}

TEST_CASE_METHOD(RuntimeFixture, "an exception escaping a process kills it, not the host", "[links][exits]") {
    trap_exit(true);
    Pid child = spawn_link([] { throw std::runtime_error("boom"); });
    Term m = expect_message();
    REQUIRE(m.is_tuple(3));
    CHECK(m[1] == Term(child));
    CHECK(m[2] == Term::tuple({atoms::exception, Term::binary("std::runtime_error: boom")}));
    trap_exit(false);
}

TEST_CASE_METHOD(RuntimeFixture, "many links (a supervisor's): each exit and unlink finds its own", "[links]") {
    trap_exit(true);
    std::vector<Pid> children;
    for (int i = 0; i < 200; ++i) children.push_back(spawn_link([] { receive(); }));
    auto linked = [&] { return runtime.process_info(self())->links.size(); };
    CHECK(linked() == 200);
    // Unlink every third one; kill every third other one; the rest stay.
    std::vector<Pid> killed;
    for (std::size_t i = 0; i < children.size(); ++i) {
        if (i % 3 == 0) unlink(children[i]);
        if (i % 3 == 1) {
            exit(children[i], Atom("go"));
            killed.push_back(children[i]);
        }
    }
    for (Pid pid : killed) CHECK(expect_message(match::tuple(atoms::EXIT, pid, match::_))[2] == Term(Atom("go")));
    auto info = runtime.process_info(self());
    CHECK(info->links.size() == 200 - 67 - 67);
    for (std::size_t i = 2; i < children.size(); i += 3)
        CHECK(std::find(info->links.begin(), info->links.end(), children[i]) != info->links.end());
    // Linking again to one already linked changes nothing.
    link(children[2]);
    CHECK(linked() == 66);
    for (std::size_t i = 0; i < children.size(); ++i)
        if (i % 3 != 1) exit(children[i], atoms::kill);
    // Only the ones still linked tell us; the unlinked ones die silently.
    for (std::size_t i = 2; i < children.size(); i += 3)
        CHECK(expect_message(match::tuple(atoms::EXIT, children[i], match::_))[2] == Term(atoms::killed));
    expect_no_message(50ms);
}
