// Construction, kinds and the allocation contract.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "otpp/term.hpp"

using namespace otpp;

namespace {
struct BoxDelta {
    std::int64_t start = detail::live_boxes();
    std::int64_t operator()() const { return detail::live_boxes() - start; }
};
}  // namespace

TEST_CASE("Term is 16 bytes and cheap to move", "[term]") {
    STATIC_REQUIRE(sizeof(Term) == 16);
    STATIC_REQUIRE(std::is_nothrow_move_constructible_v<Term>);
    STATIC_REQUIRE(std::is_nothrow_copy_constructible_v<Term>);
    STATIC_REQUIRE(std::is_nothrow_move_assignable_v<Term>);
}

TEST_CASE("default term is nil", "[term]") {
    Term t;
    CHECK(t.kind() == TermKind::Nil);
    CHECK(t.is_nil());
    CHECK(t.is_list());
    CHECK(t.is_proper_list());
    CHECK(t == Term::nil());
    CHECK(t.size() == 0);
    CHECK(t.elements().empty());
}

TEST_CASE("integer constructors accept every integer type", "[term]") {
    CHECK(Term(1).kind() == TermKind::Integer);
    CHECK(Term(1L).get<std::int64_t>() == 1);
    CHECK(Term(-7LL).get<std::int64_t>() == -7);
    CHECK(Term(7u).get<std::int64_t>() == 7);
    CHECK(Term(std::size_t{9}).get<std::int64_t>() == 9);
    CHECK(Term(std::uint64_t{9}).get<std::int64_t>() == 9);
    CHECK(Term(static_cast<short>(-3)).get<std::int64_t>() == -3);
    CHECK(Term('a').get<std::int64_t>() == 97);
    CHECK(Term(INT64_MIN).get<std::int64_t>() == INT64_MIN);
    CHECK(Term(static_cast<std::uint64_t>(INT64_MAX)).get<std::int64_t>() == INT64_MAX);
    CHECK_THROWS_AS(Term(static_cast<std::uint64_t>(INT64_MAX) + 1), BadArg);
    CHECK_THROWS_AS(Term(std::numeric_limits<unsigned long long>::max()), BadArg);
}

TEST_CASE("floats must be finite", "[term]") {
    CHECK(Term(1.5).kind() == TermKind::Float);
    CHECK(Term(1.5f).get<double>() == 1.5);
    CHECK_THROWS_AS(Term(std::nan("")), BadArg);
    CHECK_THROWS_AS(Term(std::numeric_limits<double>::infinity()), BadArg);
    CHECK_THROWS_WITH(Term(-std::numeric_limits<double>::infinity()), Catch::Contains("finite"));
}

TEST_CASE("bool, Atom, Pid, Ref and strings", "[term]") {
    CHECK(Term(true) == Term(atoms::true_));
    CHECK(Term(false).is_atom(atoms::false_));
    CHECK(Term(Atom("x")).is_atom());
    CHECK(Term(Pid{0, 42, 1}).is_pid());
    CHECK(Term(Ref{0, 7}).is_ref());
    CHECK(Term("abc").is_binary());
    CHECK(Term(std::string("abc")) == Term(std::string_view("abc")));
    CHECK(Term("abc") == Term::binary("abc"));
    CHECK_FALSE(Term("ok").is_atom());  // strings never become atoms implicitly
}

TEST_CASE("immediates never allocate, containers allocate exactly one box", "[term][alloc]") {
    BoxDelta delta;
    {
        std::vector<Term> ts{Term(1), Term(2.5), Term(atoms::ok), Term(Pid{}), Term(Ref{}), Term(), Term(true),
                             Term::tuple({}), Term::map({}), Term::binary(""), Term::list({})};
        CHECK(delta() == 0);
        const Term t = Term::tuple({1, 2, 3, atoms::ok});
        CHECK(delta() == 1);
        const Term l = Term::list({1, 2, 3});
        CHECK(delta() == 2);
        const Term m = Term::map({{atoms::ok, 1}, {atoms::error, 2}});
        CHECK(delta() == 3);
        const Term b = Term::binary("bytes");
        CHECK(delta() == 4);
        Term copy = t;  // sharing, not copying
        Term moved = std::move(copy);
        CHECK(delta() == 4);
        CHECK(moved == t);
    }
    CHECK(delta() == 0);
}

TEST_CASE("tuples", "[term]") {
    const Term t = Term::tuple({Atom("sum"), 10});
    CHECK(t.is_tuple());
    CHECK(t.is_tuple(2));
    CHECK_FALSE(t.is_tuple(3));
    CHECK(t.size() == 2);
    CHECK(t[0].is_atom(Atom("sum")));
    CHECK(t[1].get<int>() == 10);
    std::vector<Term> v{1, 2};
    CHECK(Term::tuple(std::span<const Term>(v)) == Term::tuple({1, 2}));
    CHECK(Term::tuple(std::move(v)) == Term::tuple({1, 2}));
    CHECK(Term::tuple({}).size() == 0);
}

TEST_CASE("lists, improper lists and tail splicing", "[term]") {
    const Term l = Term::list({1, 2, 3});
    CHECK(l.is_list());
    CHECK(l.is_proper_list());
    CHECK(l.size() == 3);
    CHECK(l.tail().is_nil());
    CHECK(l[2].get<int>() == 3);

    const Term improper = Term::list(std::vector<Term>{Atom("a")}, Atom("b"));
    CHECK(improper.is_list());
    CHECK_FALSE(improper.is_proper_list());
    CHECK(improper.tail().is_atom(Atom("b")));
    CHECK(improper.elements().size() == 1);
    CHECK_THROWS_AS(improper.size(), BadArg);

    // [a | [b]] is [a, b]; [a | [b | c]] is [a, b | c].
    const std::vector<Term> a{Atom("a")};
    CHECK(Term::list(a, Term::list({Atom("b")})) == Term::list({Atom("a"), Atom("b")}));
    const Term abc = Term::list(a, Term::list(std::vector<Term>{Atom("b")}, Atom("c")));
    CHECK(abc.elements().size() == 2);
    CHECK(abc.tail().is_atom(Atom("c")));
    CHECK(abc == Term::list(std::vector<Term>{Atom("a"), Atom("b")}, Atom("c")));
    // An empty prefix is just the tail.
    CHECK(Term::list(std::span<const Term>{}, Atom("x")) == Term(Atom("x")));
    CHECK(Term::list({}) == Term::nil());
    CHECK(Term::cons(1, Term::list({2, 3})) == Term::list({1, 2, 3}));
    CHECK(Term::cons(1, Term()) == Term::list({1}));
    CHECK(Term::cons(1, 2).tail() == Term(2));
}

TEST_CASE("maps: sorted entries, last duplicate wins, persistent updates", "[term][map]") {
    const Term m = Term::map({{Atom("b"), 2}, {Atom("a"), 1}, {Atom("b"), 3}});
    REQUIRE(m.is_map());
    CHECK(m.size() == 2);
    REQUIRE(m.entries().size() == 2);
    CHECK(m.entries()[0].key.is_atom(Atom("a")));
    CHECK(m.entries()[1].key.is_atom(Atom("b")));
    CHECK(m.entries()[1].value.get<int>() == 3);
    REQUIRE(m.find(Atom("a")) != nullptr);
    CHECK(m.find(Atom("a"))->get<int>() == 1);
    CHECK(m.find(Atom("zz")) == nullptr);

    const Term m2 = m.put(Atom("c"), 4);
    CHECK(m.size() == 2);  // unchanged
    CHECK(m2.size() == 3);
    CHECK(m2.find(Atom("c"))->get<int>() == 4);
    const Term m3 = m2.put(Atom("a"), 10);
    CHECK(m3.size() == 3);
    CHECK(m3.find(Atom("a"))->get<int>() == 10);
    CHECK(m2.find(Atom("a"))->get<int>() == 1);
    CHECK(m3.erase(Atom("a")).size() == 2);
    CHECK(m3.erase(Atom("a")).find(Atom("a")) == nullptr);
    CHECK(m3.erase(Atom("nope")) == m3);
    CHECK(Term::map({{1, 1}}).erase(1) == Term::map({}));

    // Keys match exactly: 1 and 1.0 are different keys.
    const Term numeric = Term::map({{1, Atom("int")}, {1.0, Atom("float")}});
    CHECK(numeric.size() == 2);
    CHECK(numeric.find(1)->is_atom(Atom("int")));
    CHECK(numeric.find(1.0)->is_atom(Atom("float")));
    CHECK(numeric.entries()[0].key.is_integer());  // integer sorts first on a tie

    // Order of construction does not matter.
    CHECK(Term::map({{1, 2}, {3, 4}}) == Term::map({{3, 4}, {1, 2}}));
    CHECK_THROWS_AS(Term(1).find(1), BadArg);
    CHECK_THROWS_AS(Term(1).put(1, 2), BadArg);
}

TEST_CASE("binaries", "[term]") {
    const std::byte raw[] = {std::byte{0}, std::byte{255}, std::byte{7}};
    const Term b = Term::binary(std::span<const std::byte>(raw));
    CHECK(b.size() == 3);
    CHECK(b.bytes() == std::string_view("\0\xff\x07", 3));
    CHECK(Term::binary("").bytes().empty());
    CHECK(Term::binary("") == Term(""));
}

TEST_CASE("self-assignment keeps the value", "[term]") {
    Term t = Term::tuple({1, 2});
    const Term& alias = t;
    t = alias;
    CHECK(t == Term::tuple({1, 2}));
    t = std::move(t);  // NOLINT: deliberate
    CHECK(t.is_tuple(2));
}
