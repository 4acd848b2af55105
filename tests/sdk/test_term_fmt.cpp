// fmt / spdlog integration.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "otpp/term_fmt.hpp"

using namespace otpp;

TEST_CASE("fmt formats terms in Erlang syntax", "[term][fmt]") {
    const Term t = Term::tuple({Atom("sum"), 10, Term::binary("x")});
    CHECK(fmt::format("{}", t) == "{sum,10,<<\"x\">>}");
    CHECK(fmt::format("[{:>6}]", Term(42)) == "[    42]");
    CHECK(fmt::format("{} {} {}", atoms::EXIT, Pid{0, 42, 0}, Ref{0, 7}) == "'EXIT' <0.42.0> #Ref<0.0.7>");
}
