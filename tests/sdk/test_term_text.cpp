// Printing and parsing of every kind (valid input).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>

#include "otpp/term.hpp"

using namespace otpp;

namespace {
std::string show(const Term& t) { return t.to_string(); }
Term atom(const char* s) { return Term(Atom(s)); }
}  // namespace

TEST_CASE("printing scalars", "[term][text]") {
    CHECK(show(Term(0)) == "0");
    CHECK(show(Term(-42)) == "-42");
    CHECK(show(Term(INT64_MIN)) == "-9223372036854775808");
    CHECK(show(Term(INT64_MAX)) == "9223372036854775807");
    CHECK(show(atom("ok")) == "ok");
    CHECK(show(Term(true)) == "true");
    CHECK(show(Term(atoms::EXIT)) == "'EXIT'");
    CHECK(show(Term(Pid{0, 42, 0})) == "<0.42.0>");
    CHECK(show(Term(Ref{0, 7})) == "#Ref<0.0.7>");
    CHECK(show(Term(Ref{3, (std::uint64_t{5} << 32) | 9})) == "#Ref<3.5.9>");
    CHECK(show(Term()) == "[]");
    std::ostringstream os;
    os << Term::tuple({1, atom("a")}) << ' ' << Pid{1, 2, 3} << ' ' << atoms::DOWN;
    CHECK(os.str() == "{1,a} <1.2.3> 'DOWN'");
}

TEST_CASE("printing floats: shortest round-trip, always with '.'", "[term][text][float]") {
    CHECK(show(Term(1.0)) == "1.0");
    CHECK(show(Term(-2.5)) == "-2.5");
    CHECK(show(Term(0.1)) == "0.1");
    CHECK(show(Term(1.5e-7)) == "1.5e-7");
    CHECK(show(Term(1e20)) == "1.0e20");
    CHECK(show(Term(123456789.0)) == "123456789.0");
    CHECK(show(Term(-0.0)) == "-0.0");
    CHECK(show(Term(0.0)) == "0.0");
    CHECK(show(Term(5e-324)) == "5.0e-324");
    CHECK(show(Term(std::numeric_limits<double>::max())) == "1.7976931348623157e308");
    for (double d : {0.1, 1.0 / 3.0, 1e-300, 2.2250738585072014e-308, 4.9406564584124654e-324, 1e300, 123.456,
                     -7e-10, 9007199254740993.0}) {
        const Term back = Term::parse(show(Term(d)));
        REQUIRE(back.is_float());
        CHECK(std::signbit(back.get<double>()) == std::signbit(d));
        CHECK(back.get<double>() == d);
    }
}

TEST_CASE("printing containers", "[term][text]") {
    CHECK(show(Term::tuple({atom("sum"), 10})) == "{sum,10}");
    CHECK(show(Term::tuple({})) == "{}");
    CHECK(show(Term::list({1, 2, 3})) == "[1,2,3]");
    CHECK(show(Term::list(std::vector<Term>{atom("a")}, atom("b"))) == "[a|b]");
    CHECK(show(Term::list(std::vector<Term>{1, 2}, 3)) == "[1,2|3]");
    CHECK(show(Term::map({{atom("b"), 2}, {atom("a"), 1}})) == "#{a => 1,b => 2}");
    CHECK(show(Term::map({})) == "#{}");
    CHECK(show(Term::tuple({Term::list({}), Term::tuple({}), Term::map({{1, Term::list({1})}})})) ==
          "{[],{},#{1 => [1]}}");
}

TEST_CASE("printing binaries", "[term][text][binary]") {
    CHECK(show(Term::binary("abc")) == "<<\"abc\">>");
    CHECK(show(Term::binary("")) == "<<>>");
    CHECK(show(Term::binary(std::string_view("\x01\x02\x03", 3))) == "<<1,2,3>>");
    CHECK(show(Term::binary(std::string_view("\0", 1))) == "<<0>>");
    CHECK(show(Term::binary("\xff")) == "<<255>>");                       // invalid UTF-8
    CHECK(show(Term::binary("caf\xc3\xa9")) == "<<\"caf\xc3\xa9\">>");     // UTF-8 text
    CHECK(show(Term::binary("a\"b\\c\n")) == "<<\"a\\\"b\\\\c\\n\">>");   // escapes
    CHECK(show(Term::binary("a\x7f")) == "<<97,127>>");                    // DEL is not printable
}

TEST_CASE("parsing numbers", "[term][parse]") {
    CHECK(Term::parse("42") == Term(42));
    CHECK(Term::parse("-42") == Term(-42));
    CHECK(Term::parse("+7") == Term(7));
    CHECK(Term::parse("1_000_000") == Term(1000000));
    CHECK(Term::parse("16#FF") == Term(255));
    CHECK(Term::parse("16#ff") == Term(255));
    CHECK(Term::parse("-16#10") == Term(-16));
    CHECK(Term::parse("2#1010") == Term(10));
    CHECK(Term::parse("36#zz") == Term(36 * 36 - 1));
    CHECK(Term::parse("16#FFFF_FFFF") == Term(0xFFFFFFFFLL));
    CHECK(Term::parse("9223372036854775807") == Term(INT64_MAX));
    CHECK(Term::parse("-9223372036854775808") == Term(INT64_MIN));
    CHECK(Term::parse("$a") == Term(97));
    CHECK(Term::parse("$\\n") == Term(10));
    CHECK(Term::parse("$ ") == Term(32));
    CHECK(Term::parse("$\xc3\xa9") == Term(0xE9));
    CHECK(Term::parse("-$a") == Term(-97));
    CHECK(Term::parse("1.0") == Term(1.0));
    CHECK(Term::parse("-2.5e3") == Term(-2500.0));
    CHECK(Term::parse("1.5e-7") == Term(1.5e-7));
    CHECK(Term::parse("1.0E+2") == Term(100.0));
    CHECK(Term::parse("1_0.2_5") == Term(10.25));
    CHECK(Term::parse("-0.0") == Term(-0.0));
}

TEST_CASE("parsing atoms and strings", "[term][parse]") {
    CHECK(Term::parse("foo_bar@x") == atom("foo_bar@x"));
    CHECK(Term::parse("true") == Term(true));
    CHECK(Term::parse("false") == Term(false));
    CHECK(Term::parse("'hello world'") == atom("hello world"));
    CHECK(Term::parse("'EXIT'") == Term(atoms::EXIT));
    CHECK(Term::parse("''") == atom(""));
    CHECK(Term::parse("'it\\'s'") == atom("it's"));
    CHECK(Term::parse("'and'") == atom("and"));
    CHECK(Term::parse("'\\x{1F600}'") == atom("\xf0\x9f\x98\x80"));
    // Strings are binaries (UTF-8), not charlists.
    CHECK(Term::parse("\"abc\"") == Term::binary("abc"));
    CHECK(Term::parse("\"\"") == Term::binary(""));
    CHECK(Term::parse(R"("a\"b\\c\n\t\s\e\d\101\x41\x{e9}\^a\q")") ==
          Term::binary("a\"b\\c\n\t \x1b\x7f"
                       "AA\xc3\xa9\x01q"));
    CHECK(Term::parse("\"caf\xc3\xa9\"") == Term::binary("caf\xc3\xa9"));
    CHECK(Term::parse("\"line1\nline2\"") == Term::binary("line1\nline2"));
}

TEST_CASE("parsing binaries", "[term][parse][binary]") {
    CHECK(Term::parse("<<\"abc\">>") == Term::binary("abc"));
    CHECK(Term::parse("<<1,2,3>>") == Term::binary(std::string_view("\x01\x02\x03", 3)));
    CHECK(Term::parse("<<\"a\", 1>>") == Term::binary(std::string_view("a\x01", 2)));
    CHECK(Term::parse("<<>>") == Term::binary(""));
    CHECK(Term::parse("<< >>") == Term::binary(""));
    CHECK(Term::parse("<< 255 , $a, 16#10 >>") == Term::binary(std::string_view("\xff" "a\x10", 3)));
}

TEST_CASE("parsing containers, pids and refs", "[term][parse]") {
    CHECK(Term::parse("{sum,10}") == Term::tuple({atom("sum"), 10}));
    CHECK(Term::parse("{}") == Term::tuple({}));
    CHECK(Term::parse("[]") == Term());
    CHECK(Term::parse("[1,2,3]") == Term::list({1, 2, 3}));
    CHECK(Term::parse("[a|b]") == Term::list(std::vector<Term>{atom("a")}, atom("b")));
    CHECK(Term::parse("[a|[b]]") == Term::list({atom("a"), atom("b")}));
    CHECK(Term::parse("[a|[]]") == Term::list({atom("a")}));
    CHECK(Term::parse("[1,2|[3|x]]") == Term::list(std::vector<Term>{1, 2, 3}, atom("x")));
    CHECK(Term::parse("#{}") == Term::map({}));
    CHECK(Term::parse("#{a => 1, b => 2}") == Term::map({{atom("a"), 1}, {atom("b"), 2}}));
    CHECK(Term::parse("#{a => 1, a => 2}") == Term::map({{atom("a"), 2}}));
    CHECK(Term::parse("<0.42.0>") == Term(Pid{0, 42, 0}));
    CHECK(Term::parse("<1.2.3>") == Term(Pid{1, 2, 3}));
    CHECK(Term::parse("#Ref<0.0.7>") == Term(Ref{0, 7}));
    CHECK(Term::parse("#Ref<2.1.0>") == Term(Ref{2, std::uint64_t{1} << 32}));
    CHECK(Term::parse("{<0.1.0>, #Ref<0.0.1>}") == Term::tuple({Pid{0, 1, 0}, Ref{0, 1}}));
}

TEST_CASE("whitespace, comments and the optional final dot", "[term][parse]") {
    const Term expected = Term::tuple({atom("a"), Term::list({1, 2}), Term::map({{atom("k"), atom("v")}})});
    CHECK(Term::parse(" \t{ a ,\n [ 1 , 2 ] , #{ k => v } }\r\n") == expected);
    CHECK(Term::parse("{a,[1,2],#{k=>v}}.") == expected);
    CHECK(Term::parse("{a,[1,2],#{k=>v}} . \n") == expected);
    CHECK(Term::parse("% a comment\n{a, % inline\n [1,2], #{k => v}}") == expected);
    CHECK(Term::parse("1.") == Term(1));
    CHECK(Term::parse("ok.") == atom("ok"));
}

TEST_CASE("parse_existing_atoms accepts only atoms that already exist", "[term][parse]") {
    CHECK(Term::parse_existing_atoms("{ok, [1, <<\"x\">>]}") == Term::parse("{ok, [1, <<\"x\">>]}"));
    CHECK_THROWS_AS(Term::parse_existing_atoms("{ok, zz_never_made_by_anyone}"), ParseError);
    CHECK_THROWS_WITH(Term::parse_existing_atoms("'zz never made either'"), Catch::Contains("unknown atom"));
    // Refusing did not make them.
    CHECK_FALSE(Atom::existing("zz_never_made_by_anyone"));
    CHECK_FALSE(Atom::existing("zz never made either"));
}
