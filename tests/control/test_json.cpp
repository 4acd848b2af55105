// Terms as JSON (host/control/json.hpp): the mapping and the escaping.
#include <json.hpp>

#include <catch2/catch.hpp>

using namespace otpp;
using otpp::control::to_json;

TEST_CASE("JSON: scalars map as documented", "[control][json]") {
    CHECK(to_json(Term(42)) == "42");
    CHECK(to_json(Term(-7)) == "-7");
    CHECK(to_json(Term(1.5)) == "1.5");
    CHECK(to_json(Term(true)) == "true");
    CHECK(to_json(Term(false)) == "false");
    CHECK(to_json(Term(atoms::undefined)) == "null");
    CHECK(to_json(Term(Atom("hello world"))) == "\"hello world\"");
    CHECK(to_json(Term(Pid{0, 12, 3})) == "\"<0.12.3>\"");
    CHECK(to_json(Term::binary("abc")) == "\"abc\"");
    CHECK(to_json(Term()) == "[]");
}

TEST_CASE("JSON: strings are escaped per RFC 8259", "[control][json]") {
    CHECK(to_json(Term::binary("a\"b\\c")) == R"("a\"b\\c")");
    CHECK(to_json(Term::binary("line\nnext\ttab\r")) == R"("line\nnext\ttab\r")");
    CHECK(to_json(Term::binary(std::string("nul\0x\x01\x1f", 7))) == R"("nul\u0000x\u0001\u001f")");
    CHECK(to_json(Term::binary("h\xc3\xa9llo \xe2\x82\xac")) == "\"h\xc3\xa9llo \xe2\x82\xac\"");  // UTF-8 passes through
    CHECK(to_json(Term(Atom("it's"))) == R"("it's")");
}

TEST_CASE("JSON: a binary that is not UTF-8 becomes its Erlang text", "[control][json]") {
    CHECK(to_json(Term::binary("\xff\xfe")) == "\"<<255,254>>\"");
    CHECK(to_json(Term::binary("\xc0\x80")) == "\"<<192,128>>\"");          // overlong
    CHECK(to_json(Term::binary("\xed\xa0\x80")) == "\"<<237,160,128>>\"");  // surrogate
    CHECK_FALSE(control::valid_utf8("\xf4\x90\x80\x80"));                  // above U+10FFFF
    CHECK(control::valid_utf8("\xf0\x9f\x98\x80"));
}

TEST_CASE("JSON: containers", "[control][json]") {
    CHECK(to_json(Term::parse("{a, [1, 2], <<\"x\">>}")) == R"(["a",[1,2],"x"])");
    CHECK(to_json(Term::parse("#{name => <<\"n\">>, 1 => two, {k} => v, <<\"b\">> => []}")) ==
          R"({"1":"two","name":"n","{k}":"v","b":[]})");
    CHECK(to_json(Term::parse("[a | b]")) == R"(["a","b"])");
    CHECK(to_json(Term::parse("#{}")) == "{}");
    CHECK(to_json(Term::parse("{}")) == "[]");
}
