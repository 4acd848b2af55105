// Parse errors: exact positions and messages.
#include <catch2/catch.hpp>

#include <string>

#include "otpp/term.hpp"

using namespace otpp;

namespace {
// Parses `text`, expecting failure; returns the error.
ParseError parse_error(const std::string& text) {
    try {
        (void)Term::parse(text);
    } catch (const ParseError& e) {
        return e;
    }
    FAIL("no ParseError for: " << text);
    throw;  // unreachable
}
}  // namespace

TEST_CASE("errors point at the offending column", "[term][parse][error]") {
    struct Case {
        const char* text;
        std::size_t column;
        const char* what;
    };
    const Case cases[] = {
        {"{a,}", 4, "column 4: unexpected '}'"},
        {"{a} x", 5, "column 5: unexpected 'x'"},
        {"{a,b", 5, "column 5: unexpected end of input"},
        {"", 1, "column 1: unexpected end of input"},
        {"   ", 4, "column 4: unexpected end of input"},
        {"[1,2,]", 6, "column 6: unexpected ']'"},
        {"[1|2|3]", 5, "column 5: unexpected '|'"},
        {"[1|2,3]", 5, "column 5: unexpected ','"},
        {"[|1]", 2, "column 2: unexpected '|'"},
        {"#{a}", 4, "column 4: unexpected '}'"},
        {"#{a => }", 8, "column 8: unexpected '}'"},
        {"#{a = 1}", 5, "column 5: unexpected '='"},
        {"#x", 2, "column 2: unexpected 'x'"},
        {"Var", 1, "column 1: unexpected 'V'"},
        {"_", 1, "column 1: unexpected '_'"},
        {"{a}}", 4, "column 4: unexpected '}'"},
        {"1.5e", 4, "column 4: unexpected 'e'"},
        {"1.x", 3, "column 3: unexpected 'x'"},
        {"1..", 3, "column 3: unexpected '.'"},
        {"-", 2, "column 2: unexpected end of input"},
        {"1_", 2, "column 2: unexpected '_'"},
        {"1__0", 2, "column 2: unexpected '_'"},
        {"<0.1>", 5, "column 5: unexpected '>'"},
        {"<0.1.2", 7, "column 7: unexpected end of input"},
        {"<<1,2", 6, "column 6: unexpected end of input"},
        {"<<a>>", 3, "column 3: unexpected 'a'"},
        {"<<256>>", 3, "column 3: byte value out of range 0..255"},
        {"<<1.5>>", 3, "column 3: binary segment must be an integer or a string"},
        {"{\"abc", 2, "column 2: unterminated string"},
        {"'abc", 1, "column 1: unterminated quoted atom"},
        {"99999999999999999999", 1, "column 1: integer out of 64-bit range"},
        {"{1, 9223372036854775808}", 5, "column 5: integer out of 64-bit range"},
        {"-9223372036854775809", 1, "column 1: integer out of 64-bit range"},
        {"16#1_0000_0000_0000_0000", 1, "column 1: integer out of 64-bit range"},
        {"37#1", 1, "column 1: radix must be between 2 and 36"},
        {"1#1", 1, "column 1: radix must be between 2 and 36"},
        {"2#2", 3, "column 3: unexpected '2'"},
        {"1.0e999", 1, "column 1: float out of range"},
        {"\"\\x{110000}\"", 2, "column 2: escape is not a Unicode code point"},
        {"{a}\x01", 4, "column 4: unexpected character U+0001"},
        {"{a}\xff", 4, "column 4: unexpected byte 0xFF"},
        {"{\xc3\xa9}", 2, "column 2: unexpected character U+00E9"},
        {"\"\xc3\xa9\" x", 5, "column 5: unexpected 'x'"},  // columns count code points, not bytes
        {"\"\xff\"", 2, "column 2: invalid UTF-8"},
        {"ok ok", 4, "column 4: unexpected 'o'"},
    };
    for (const Case& c : cases) {
        INFO("input: " << c.text);
        const ParseError e = parse_error(c.text);
        CHECK(std::string(e.what()) == c.what);
        CHECK(e.column() == c.column);
        CHECK(e.line() == 1);
    }
}

TEST_CASE("multi-line input reports line and column", "[term][parse][error]") {
    const ParseError e = parse_error("{a,\n  b,\n  }");
    CHECK(e.line() == 3);
    CHECK(e.column() == 3);
    CHECK(e.offset() == 11);
    CHECK(std::string(e.what()) == "line 3, column 3: unexpected '}'");
    CHECK(e.message() == "unexpected '}'");
}

TEST_CASE("ParseError is an otpp::Error", "[term][parse][error]") {
    CHECK_THROWS_AS(Term::parse("{"), Error);
    CHECK_THROWS_AS(Term::parse("{"), ParseError);
}
