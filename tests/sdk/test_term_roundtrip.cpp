// Property: parse(t.to_string()) == t for pseudo-random nested terms.
#include <catch2/catch.hpp>

#include <string>

#include "otpp/term.hpp"
#include "term_gen.hpp"

using namespace otpp;

TEST_CASE("print/parse round-trip over random terms", "[term][text][property]") {
    test::TermGen gen(20240601);
    for (int i = 0; i < 5000; ++i) {
        const Term t = gen.term(4);
        const std::string text = t.to_string();
        INFO("term #" << i << ": " << text);
        Term back;
        REQUIRE_NOTHROW(back = Term::parse(text));
        REQUIRE(back == t);
        REQUIRE(back.to_string() == text);  // printing is deterministic
    }
}

TEST_CASE("round-trip of every kind's edge cases", "[term][text]") {
    const Term cases[] = {
        Term(INT64_MIN), Term(INT64_MAX), Term(-0.0), Term(5e-324), Term(1.7976931348623157e308),
        Term(Atom("")), Term(Atom("'\\\"")), Term(Atom("\x01\x1b\x7f")), Term(Atom("\xc2\x80\xc2\x9f")),
        Term(Pid{4294967295u, 4294967295u, 4294967295u}), Term(Ref{4294967295u, ~std::uint64_t{0}}),
        Term::binary(std::string_view("\0\0", 2)), Term::binary("\t\n\r\v\b\f\x1b"),
        Term::binary("\xef\xbf\xbe"),  // U+FFFE: valid UTF-8 but not printable -> byte form
        Term::list(std::vector<Term>{1}, Term::binary("t")), Term::list(std::vector<Term>{1}, Term::map({})),
        Term::map({{Term::map({{1, 2}}), Term::tuple({})}, {Term(), Term::list({Term()})}}),
    };
    for (const Term& t : cases) {
        const std::string text = t.to_string();
        INFO(text);
        CHECK(Term::parse(text) == t);
    }
}
