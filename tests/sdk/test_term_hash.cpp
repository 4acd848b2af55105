// Hash consistency with ==.
#include <catch2/catch.hpp>

#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "otpp/term.hpp"
#include "term_gen.hpp"

using namespace otpp;

TEST_CASE("equal terms built differently hash equally", "[term][hash]") {
    const Term m1 = Term::map({{Atom("a"), 1}, {Atom("b"), Term::list({1, 2})}});
    const Term m2 = Term::map({{Atom("b"), Term::list({1, 2})}, {Atom("a"), 0}}).put(Atom("a"), 1);
    REQUIRE(m1 == m2);
    CHECK(m1.hash() == m2.hash());
    const Term l1 = Term::list({1, 2, 3});
    const Term l2 = Term::cons(1, Term::cons(2, Term::list({3})));
    REQUIRE(l1 == l2);
    CHECK(l1.hash() == l2.hash());
    CHECK(Term::binary("abc").hash() == Term(std::string("abc")).hash());
    CHECK(Term::tuple({}).hash() == Term::tuple(std::vector<Term>{}).hash());
    CHECK(std::hash<Term>{}(Term(5)) == Term(5).hash());
}

TEST_CASE("hash distinguishes what == distinguishes (usually)", "[term][hash]") {
    CHECK(Term(1).hash() != Term(1.0).hash());
    CHECK(Term(0.0).hash() != Term(-0.0).hash());
    CHECK(Term::tuple({1, 2}).hash() != Term::tuple({2, 1}).hash());
    CHECK(Term::list({1, 2}).hash() != Term::tuple({1, 2}).hash());
    CHECK(Term::list({Term::list({1}), 2}).hash() != Term::list({1, Term::list({2})}).hash());
    CHECK(Term(atoms::ok).hash() != Term(atoms::error).hash());
}

TEST_CASE("random terms: a == b implies equal hashes, few collisions", "[term][hash][property]") {
    test::TermGen gen(42);
    std::unordered_map<Term, int> counts;
    std::unordered_set<std::size_t> hashes;
    for (int i = 0; i < 3000; ++i) {
        const Term t = gen.term(3);
        const Term again = Term::parse(t.to_string());
        REQUIRE(again == t);
        REQUIRE(again.hash() == t.hash());
        ++counts[t];
        hashes.insert(t.hash());
    }
    // Distinct terms should essentially never collide on a 64-bit hash.
    CHECK(hashes.size() == counts.size());
}
