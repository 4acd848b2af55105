#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "otpp/atom.hpp"
#include "otpp/error.hpp"

using namespace otpp;

TEST_CASE("predefined atoms have fixed indices and names", "[atom]") {
    STATIC_REQUIRE(Atom().index() == 0);
    STATIC_REQUIRE(atoms::undefined.index() == 0);
    STATIC_REQUIRE(atoms::ok.index() == 1);
    CHECK(Atom() == atoms::undefined);
    CHECK(atoms::undefined.name() == "undefined");
    CHECK(atoms::ok.name() == "ok");
    CHECK(atoms::true_.name() == "true");
    CHECK(atoms::false_.name() == "false");
    CHECK(atoms::EXIT.name() == "EXIT");
    CHECK(atoms::DOWN.name() == "DOWN");
    CHECK(atoms::brutal_kill.name() == "brutal_kill");
    CHECK(atoms::nonode_at_nohost.name() == "nonode@nohost");
    // Interning a predefined name finds the predefined atom.
    CHECK(Atom("ok") == atoms::ok);
    CHECK(Atom("true") == atoms::true_);
    CHECK(Atom("nonode@nohost") == atoms::nonode_at_nohost);
    CHECK(atom_count() >= detail::predefined_atom_count);
}

TEST_CASE("interning returns one index per name", "[atom]") {
    const Atom a("test_atom_interning_a");
    const Atom b("test_atom_interning_b");
    CHECK(a != b);
    CHECK(Atom("test_atom_interning_a") == a);
    CHECK(a.name() == "test_atom_interning_a");
    CHECK(Atom::from_index(a.index()) == a);
    CHECK(Atom::existing("test_atom_interning_a") == a);
    CHECK_FALSE(Atom::existing("test_atom_never_interned_xyz").has_value());
    const Atom empty("");
    CHECK(empty.name().empty());
    CHECK(Atom("") == empty);
}

TEST_CASE("atoms order by name, not by creation order", "[atom]") {
    const Atom z("zzz_order_created_first");
    const Atom a("aaa_order_created_second");
    CHECK(a < z);
    CHECK(z > a);
    CHECK((a <=> a) == std::strong_ordering::equal);
    CHECK(Atom("B") < Atom("a"));              // bytes, uppercase first
    CHECK(Atom("ab") < Atom("abc"));           // prefix first
    CHECK(Atom("z") < Atom("\xc3\xa9"));       // UTF-8 bytes compare unsigned
    CHECK(atoms::ok > atoms::error);           // "ok" > "error" although ok's index is smaller
}

TEST_CASE("atom name limits", "[atom]") {
    const std::string max(255, 'x');
    CHECK(Atom(max).name() == max);
    CHECK_THROWS_AS(Atom(std::string(256, 'x')), BadArg);
    CHECK_THROWS_WITH(Atom(std::string(300, 'x')), Catch::Contains("too long"));
    CHECK_THROWS_AS(Atom("bad\xff utf8"), BadArg);
    CHECK_THROWS_AS(Atom("\xc0\xaf"), BadArg);  // overlong encoding
    CHECK_NOTHROW(Atom("caf\xc3\xa9"));
}

TEST_CASE("atom printing quotes when needed", "[atom][text]") {
    CHECK(to_string(atoms::ok) == "ok");
    CHECK(to_string(Atom("foo_bar@x")) == "foo_bar@x");
    CHECK(to_string(atoms::EXIT) == "'EXIT'");
    CHECK(to_string(Atom("Foo")) == "'Foo'");
    CHECK(to_string(Atom("hello world")) == "'hello world'");
    CHECK(to_string(Atom("")) == "''");
    CHECK(to_string(Atom("_x")) == "'_x'");
    CHECK(to_string(Atom("9lives")) == "'9lives'");
    CHECK(to_string(Atom("and")) == "'and'");  // reserved word
    CHECK(to_string(Atom("it's")) == "'it\\'s'");
    CHECK(to_string(Atom("a\\b")) == "'a\\\\b'");
    CHECK(to_string(Atom("a\nb")) == "'a\\nb'");
    CHECK(to_string(Atom("nonode@nohost")) == "nonode@nohost");
    CHECK(to_string(Atom("caf\xc3\xa9")) == "'caf\xc3\xa9'");
}

TEST_CASE("std::hash<Atom> is usable", "[atom]") {
    std::unordered_set<Atom> set{atoms::ok, atoms::error, Atom("ok")};
    CHECK(set.size() == 2);
    CHECK(std::hash<Atom>{}(Atom("ok")) == std::hash<Atom>{}(atoms::ok));
}

TEST_CASE("concurrent interning agrees on indices and names stay readable", "[atom][threads]") {
    constexpr int threads = 8;
    constexpr int names = 2000;
    std::vector<std::vector<std::uint32_t>> seen(threads, std::vector<std::uint32_t>(names));
    std::atomic<bool> go{false};
    std::atomic<int> bad_reads{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            while (!go.load()) std::this_thread::yield();
            for (int k = 0; k < names; ++k) {
                // Threads walk the names in different orders to race on creation.
                const int i = (t % 2 == 0) ? k : names - 1 - k;
                const std::string name = "concurrent_atom_" + std::to_string(i);
                const Atom a(name);
                seen[t][i] = a.index();
                if (a.name() != name) bad_reads.fetch_add(1);
                // Read an atom another thread may have just created.
                if (k > 0 && seen[t][static_cast<std::size_t>(k - 1)] != 0 &&
                    Atom::from_index(seen[t][static_cast<std::size_t>(k - 1)]).name().empty())
                    bad_reads.fetch_add(1);
            }
        });
    }
    go = true;
    for (auto& th : pool) th.join();
    CHECK(bad_reads.load() == 0);
    std::unordered_set<std::uint32_t> distinct;
    for (int i = 0; i < names; ++i) {
        for (int t = 1; t < threads; ++t) REQUIRE(seen[t][i] == seen[0][i]);
        distinct.insert(seen[0][i]);
    }
    CHECK(distinct.size() == static_cast<std::size_t>(names));
}

TEST_CASE("the atom table is capped at 1,048,576 atoms", "[atom][slow]") {
    // Filling the table is irreversible, so do it in a child process.
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        int code = 1;
        try {
            for (std::uint32_t i = 0;; ++i) {
                Atom a("fill_" + std::to_string(i));
                if (atom_count() > Atom::max_atoms) _exit(2);
                (void)a;
            }
        } catch (const BadArg& e) {
            const std::string what = e.what();
            code = (atom_count() == Atom::max_atoms && what.find("atom table full") != std::string::npos &&
                    Atom("ok") == atoms::ok && Atom("fill_0").name() == "fill_0")
                       ? 0
                       : 3;
        }
        _exit(code);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
