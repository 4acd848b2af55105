// Exact equality, Erlang term order and numeric equality.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "otpp/term.hpp"
#include "term_gen.hpp"

using namespace otpp;

TEST_CASE("kinds order as in Erlang", "[term][order]") {
    // number < atom < reference < pid < tuple < map < nil < list < bitstring
    const std::vector<Term> ascending = {
        Term(-5),
        Term(1.5),
        Term(2),
        Term(atoms::ok),
        Term(Ref{0, 1}),
        Term(Pid{0, 1, 0}),
        Term::tuple({}),
        Term::tuple({1}),
        Term::map({}),
        Term(),
        Term::list({1}),
        Term::binary(""),
        Term::binary("a"),
    };
    for (std::size_t i = 0; i + 1 < ascending.size(); ++i) {
        INFO(ascending[i].to_string() << " < " << ascending[i + 1].to_string());
        CHECK(ascending[i] < ascending[i + 1]);
        CHECK(ascending[i + 1] > ascending[i]);
        CHECK(ascending[i] != ascending[i + 1]);
    }
    std::vector<Term> shuffled(ascending.rbegin(), ascending.rend());
    std::sort(shuffled.begin(), shuffled.end());
    CHECK(shuffled == ascending);
}

TEST_CASE("integers and floats compare by value, on a tie the integer comes first", "[term][order]") {
    CHECK(Term(1) < Term(1.5));
    CHECK(Term(1.5) < Term(2));
    CHECK(Term(-1) > Term(-1.5));
    CHECK(Term(1) < Term(1.0));
    CHECK(Term(1.0) > Term(1));
    CHECK(Term(1) != Term(1.0));
    CHECK(Term(0) < Term(-0.0));
    CHECK(Term(-0.0) < Term(0.0));
    CHECK(Term(-0.0) != Term(0.0));
    CHECK(Term(0.0) == Term(0.0));
}

TEST_CASE("int64 vs double comparison is exact", "[term][order]") {
    const std::int64_t big = (std::int64_t{1} << 53) + 1;  // not representable as a double
    const double d = 9007199254740992.0;                   // 2^53
    CHECK(Term(big) > Term(d));                            // a cast to double would say "equal"
    CHECK(Term(big - 1) < Term(d));                        // equal value: integer first
    CHECK_FALSE(equal_numeric(Term(big), Term(d)));
    CHECK(equal_numeric(Term(big - 1), Term(d)));
    CHECK(Term(INT64_MAX) < Term(9223372036854775808.0));  // 2^63 > INT64_MAX
    CHECK(Term(INT64_MIN) > Term(-9223372036854777856.0));  // next double below -2^63
    CHECK(equal_numeric(Term(INT64_MIN), Term(-9223372036854775808.0)));
    CHECK(Term(INT64_MIN) < Term(-9223372036854775808.0));
    CHECK(Term(3) > Term(2.9999999999999996));
    CHECK(Term(-3) < Term(-2.9999999999999996));
    CHECK(Term(0) > Term(-1e-300));
    CHECK(Term(0) < Term(std::numeric_limits<double>::denorm_min()));
    CHECK(Term(INT64_MAX) < Term(std::numeric_limits<double>::max()));
    CHECK(Term(INT64_MIN) > Term(std::numeric_limits<double>::lowest()));
}

TEST_CASE("exact equality vs numeric equality", "[term][order]") {
    CHECK(Term(1) != Term(1.0));
    CHECK(equal_numeric(Term(1), Term(1.0)));
    CHECK(equal_numeric(Term(-0.0), Term(0.0)));
    CHECK(equal_numeric(Term::tuple({1, Atom("a")}), Term::tuple({1.0, Atom("a")})));
    CHECK(Term::tuple({1, Atom("a")}) != Term::tuple({1.0, Atom("a")}));
    CHECK(equal_numeric(Term::list({1, 2}), Term::list({1.0, 2})));
    CHECK_FALSE(equal_numeric(Term::list({1, 2}), Term::list({1.0, 3})));
    // Map values compare numerically, keys exactly (as in Erlang).
    CHECK(equal_numeric(Term::map({{Atom("a"), 1}}), Term::map({{Atom("a"), 1.0}})));
    CHECK_FALSE(equal_numeric(Term::map({{1, Atom("a")}}), Term::map({{1.0, Atom("a")}})));
    CHECK_FALSE(equal_numeric(Term(1), Term(atoms::ok)));
}

TEST_CASE("containers", "[term][order]") {
    // Tuples: arity first.
    CHECK(Term::tuple({9, 9}) < Term::tuple({1, 1, 1}));
    CHECK(Term::tuple({1, 2}) < Term::tuple({1, 3}));
    // Lists: element-wise, shorter proper list first.
    CHECK(Term::list({1, 2}) < Term::list({1, 2, 3}));
    CHECK(Term::list({1, 3}) > Term::list({1, 2, 3}));
    CHECK(Term() < Term::list({0}));
    // [a|b] vs [a,c]: the tail b (an atom) meets the list [c]: atom < list.
    const Term ab = Term::list(std::vector<Term>{Atom("a")}, Atom("b"));
    const Term ac = Term::list({Atom("a"), Atom("c")});
    CHECK(ab < ac);
    // A binary tail is greater than any list.
    const Term abin = Term::list(std::vector<Term>{Atom("a")}, Term::binary("z"));
    CHECK(abin > ac);
    // Same length: tails compare.
    CHECK(Term::list(std::vector<Term>{1}, 2) < Term::list(std::vector<Term>{1}, 3));
    // Maps: size, then keys, then values.
    CHECK(Term::map({{9, 9}}) < Term::map({{1, 1}, {2, 2}}));
    CHECK(Term::map({{1, 9}}) < Term::map({{2, 0}}));
    CHECK(Term::map({{1, 1}}) < Term::map({{1, 2}}));
    // Binaries: bytewise, unsigned, prefix first.
    CHECK(Term::binary("ab") < Term::binary("abc"));
    CHECK(Term::binary("\x7f") < Term::binary("\x80"));
    // Atoms by name, pids by node, serial, id; refs by node, id.
    CHECK(Term(Atom("b")) > Term(Atom("a_long_atom")));
    CHECK(Term(Pid{0, 99, 0}) < Term(Pid{0, 1, 1}));
    CHECK(Term(Pid{0, 99, 9}) < Term(Pid{1, 1, 0}));
    CHECK(Term(Ref{0, 99}) < Term(Ref{1, 0}));
}

TEST_CASE("list tails vs nil", "[term][order]") {
    // [1|2] vs [1]: same length; tails 2 (number) vs [] (nil): number < nil.
    CHECK(Term::list(std::vector<Term>{1}, 2) < Term::list({1}));
}

TEST_CASE("deep-ish structural equality", "[term][order]") {
    const Term a = Term::map({{Term::tuple({1, Term::list({2, 3})}), Term::binary("x")}, {Atom("k"), Term::map({{1, 2}})}});
    const Term b = Term::map({{Atom("k"), Term::map({{1, 2}})}, {Term::tuple({1, Term::list({2, 3})}), Term::binary("x")}});
    CHECK(a == b);
    CHECK((a <=> b) == std::strong_ordering::equal);
    const Term c = Term::map({{Atom("k"), Term::map({{1, 3}})}, {Term::tuple({1, Term::list({2, 3})}), Term::binary("x")}});
    CHECK(a != c);
    CHECK(a < c);
}

TEST_CASE("order is a strict total order consistent with == (random terms)", "[term][order][property]") {
    test::TermGen gen(0xC0FFEE);
    std::vector<Term> terms;
    for (int i = 0; i < 600; ++i) terms.push_back(gen.term(3));
    // Duplicates (built independently) must compare equal.
    for (int i = 0; i < 50; ++i) terms.push_back(Term::parse(terms[static_cast<std::size_t>(i)].to_string()));
    std::sort(terms.begin(), terms.end());
    for (std::size_t i = 0; i + 1 < terms.size(); ++i) {
        const auto c = terms[i] <=> terms[i + 1];
        REQUIRE(c != std::strong_ordering::greater);
        REQUIRE((c == std::strong_ordering::equal) == (terms[i] == terms[i + 1]));
        REQUIRE((terms[i + 1] <=> terms[i]) == (c == std::strong_ordering::less ? std::strong_ordering::greater
                                                                                : std::strong_ordering::equal));
    }
    // Transitivity spot check over triples.
    for (std::size_t i = 0; i + 20 < terms.size(); i += 7) REQUIRE(terms[i] <= terms[i + 20]);
}
