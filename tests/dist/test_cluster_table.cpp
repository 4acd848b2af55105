// The global registry's replica (GlobalTable) alone: the conflict rule and
// the per-owner bookkeeping that every node applies the same way.
#include <catch2/catch.hpp>

#include <global_registry.hpp>

using namespace otpp;
using namespace otpp::dist;

namespace {
const Atom self_node("m@h"), lower("a@h"), higher("z@h"), foo("foo"), bar("bar");
using Entry = GlobalTable::Entry;
using Registration = GlobalTable::Registration;
}  // namespace

TEST_CASE("the conflict rule: the older registration wins, then the lower node name, then the lower pid",
          "[dist][cluster]") {
    // Older first, whatever the nodes.
    Entry old_on_z{Pid{1, 1, 0}, higher, 1000}, new_on_a{Pid{3, 900, 9}, lower, 2000};
    CHECK(GlobalTable::precedes(old_on_z, new_on_a));
    CHECK_FALSE(GlobalTable::precedes(new_on_a, old_on_z));
    // At the same time: the lower node name.
    Entry a{Pid{3, 900, 9}, lower, 5}, z{Pid{1, 1, 0}, higher, 5};
    CHECK(GlobalTable::precedes(a, z));
    CHECK_FALSE(GlobalTable::precedes(z, a));
    // Same node and time: serial, then id (Erlang's pid order); the local
    // node index (Pid::node) plays no part, since it differs from node to node.
    Entry p1{Pid{5, 10, 0}, lower, 5}, p2{Pid{7, 2, 1}, lower, 5}, p3{Pid{0, 11, 0}, lower, 5};
    CHECK(GlobalTable::precedes(p1, p2));
    CHECK(GlobalTable::precedes(p1, p3));
    CHECK_FALSE(GlobalTable::precedes(p1, p1));

    // Two replicas that learn the candidates in opposite orders answer the same.
    GlobalTable t1(self_node), t2(Atom("other@h"));
    t1.set(foo, new_on_a);
    t1.set(foo, old_on_z);
    t2.set(foo, old_on_z);
    t2.set(foo, new_on_a);
    CHECK(t1.whereis(foo) == old_on_z.pid);
    CHECK(t2.whereis(foo) == old_on_z.pid);
    CHECK(t1.names() == std::vector<Atom>{foo});
}

TEST_CASE("the replica keeps one candidate per owner: a hello replaces them and nodedown drops them",
          "[dist][cluster]") {
    GlobalTable t(self_node);
    Pid mine{0, 5, 0};
    t.set(foo, Entry{mine, self_node, 100});
    t.set(bar, Entry{Pid{2, 7, 0}, higher, 100});
    CHECK(t.own(foo) == mine);
    CHECK_FALSE(t.own(bar));
    CHECK(t.own_entries() == std::vector<Registration>{{foo, mine, 100}});

    // A newer candidate from the same owner replaces the older one.
    t.set(bar, Entry{Pid{2, 8, 0}, higher, 200});
    CHECK(t.whereis(bar) == Pid{2, 8, 0});

    // Erasing needs the right owner and pid.
    CHECK_FALSE(t.erase(bar, higher, Pid{2, 7, 0}));
    CHECK_FALSE(t.erase(bar, lower, Pid{2, 8, 0}));
    CHECK(t.erase(bar, higher, Pid{2, 8, 0}));
    CHECK_FALSE(t.whereis(bar));

    // A hello: everything `higher` owned is replaced; the names touched come back.
    t.set(bar, Entry{Pid{2, 9, 0}, higher, 300});
    auto touched = t.replace_owner(higher, {{foo, Pid{2, 1, 0}, 150}});
    CHECK(touched == std::vector<Atom>{foo});
    CHECK_FALSE(t.whereis(bar));
    CHECK(t.whereis(foo) == mine);  // ours is older (100 < 150)
    t.replace_owner(lower, {{foo, Pid{4, 1, 0}, 50}});
    CHECK(t.whereis(foo) == Pid{4, 1, 0});  // older still
    CHECK(t.own(foo) == mine);              // ours is still a candidate (its owner drops it)

    // nodedown: an owner's candidates go.
    t.drop_owner(lower);
    CHECK(t.whereis(foo) == mine);
    t.drop_owner(higher);
    t.drop_owner(self_node);
    CHECK(t.names().empty());

    t.set_peer(higher, Pid{2, 3, 0});
    t.set_peer(lower, Pid{4, 3, 0});
    CHECK(t.peers() == std::vector<std::pair<Atom, Pid>>{{lower, Pid{4, 3, 0}}, {higher, Pid{2, 3, 0}}});
    t.drop_peer(lower);
    CHECK_FALSE(t.peer(lower));
    CHECK(t.peer(higher) == Pid{2, 3, 0});
}
