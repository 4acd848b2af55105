// Registered names.
#include "support.hpp"

#include <otpp/error.hpp>

using namespace otpp;
using namespace otpp::test;

TEST_CASE_METHOD(RuntimeFixture, "register, whereis, send by name, unregister", "[registry]") {
    Pid parent = self();
    Pid p = spawn([parent] { send(parent, receive()); });
    register_name(Atom("echo_server"), p);
    REQUIRE(whereis(Atom("echo_server")) == p);
    send(Atom("echo_server"), Atom("via_name"));
    CHECK(expect_message() == Term(Atom("via_name")));
    REQUIRE(wait_dead(p));
    CHECK_FALSE(whereis(Atom("echo_server")).has_value());
}

TEST_CASE_METHOD(RuntimeFixture, "a name is freed when its process dies", "[registry]") {
    Pid p = spawn([] { receive(); });
    register_name(Atom("short_lived"), p);
    exit(p, atoms::kill);
    REQUIRE(wait_dead(p));
    CHECK_FALSE(whereis(Atom("short_lived")).has_value());
    Pid q = spawn([] { receive(); });
    register_name(Atom("short_lived"), q);  // reusable
    CHECK(whereis(Atom("short_lived")) == q);
    exit(q, atoms::kill);
}

TEST_CASE_METHOD(RuntimeFixture, "registry conflicts are badarg", "[registry]") {
    Pid a = spawn([] { receive(); });
    Pid b = spawn([] { receive(); });
    register_name(Atom("taken"), a);
    CHECK_THROWS_AS(register_name(Atom("taken"), b), BadArg);      // name taken
    CHECK_THROWS_AS(register_name(Atom("other"), a), BadArg);      // a already named
    CHECK_THROWS_AS(unregister_name(Atom("never_registered")), BadArg);
    CHECK_THROWS_AS(send(Atom("never_registered"), 1), BadArg);
    Pid dead = spawn([] {});
    REQUIRE(wait_dead(dead));
    CHECK_THROWS_AS(register_name(Atom("ghost"), dead), BadArg);
    unregister_name(Atom("taken"));
    CHECK_FALSE(whereis(Atom("taken")).has_value());
    register_name(Atom("other"), a);  // a may take a new name now
    CHECK(whereis(Atom("other")) == a);
    exit(a, atoms::kill);
    exit(b, atoms::kill);
}
