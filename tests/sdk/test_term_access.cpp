// Typed access and the BadArg messages.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "otpp/term.hpp"

using namespace otpp;

TEST_CASE("get<T> returns the value for the right kind", "[term][access]") {
    CHECK(Term(42).get<std::int64_t>() == 42);
    CHECK(Term(42).get<int>() == 42);
    CHECK(Term(42).get<std::uint8_t>() == 42);
    CHECK(Term(2.5).get<double>() == 2.5);
    CHECK(Term(true).get<bool>());
    CHECK_FALSE(Term(false).get<bool>());
    CHECK(Term(atoms::ok).get<Atom>() == atoms::ok);
    CHECK(Term(Pid{1, 2, 3}).get<Pid>() == Pid{1, 2, 3});
    CHECK(Term(Ref{1, 0x100000002}).get<Ref>() == Ref{1, 0x100000002});
    CHECK(Term("abc").get<std::string_view>() == "abc");
    CHECK(Term("abc").get<std::string>() == "abc");
}

TEST_CASE("try_get<T> is nullopt on mismatch", "[term][access]") {
    CHECK_FALSE(Term(1.0).try_get<std::int64_t>().has_value());
    CHECK_FALSE(Term(1).try_get<double>().has_value());  // no silent int -> float
    CHECK_FALSE(Term(atoms::ok).try_get<bool>().has_value());
    CHECK_FALSE(Term(INT64_MAX).try_get<int>().has_value());
    CHECK_FALSE(Term(-1).try_get<unsigned>().has_value());
    CHECK_FALSE(Term(256).try_get<std::uint8_t>().has_value());
    CHECK(Term(255).try_get<std::uint8_t>() == std::uint8_t{255});
    CHECK_FALSE(Term(Atom("abc")).try_get<std::string_view>().has_value());
    CHECK(Term(INT64_MIN).try_get<std::int64_t>() == INT64_MIN);
}

TEST_CASE("BadArg messages say what was expected and show the term", "[term][access][error]") {
    const Term t = Term::tuple({Atom("sum"), 10});
    CHECK_THROWS_AS(t.get<std::int64_t>(), BadArg);
    CHECK_THROWS_WITH(t.get<std::int64_t>(), "expected integer, got {sum,10}");
    CHECK_THROWS_WITH(Term(1).get<Atom>(), "expected atom, got 1");
    CHECK_THROWS_WITH(Term(1).get<double>(), "expected float, got 1");
    CHECK_THROWS_WITH(Term(atoms::ok).get<bool>(), "expected boolean, got ok");
    CHECK_THROWS_WITH(Term(1).get<Pid>(), "expected pid, got 1");
    CHECK_THROWS_WITH(Term(1).get<Ref>(), "expected reference, got 1");
    CHECK_THROWS_WITH(Term(atoms::ok).get<std::string>(), "expected binary, got ok");
    CHECK_THROWS_WITH(Term(10000000000).get<int>(),
                      "expected integer in range -2147483648..2147483647, got 10000000000");
    // BadArg is an otpp::Error is a std::runtime_error.
    CHECK_THROWS_AS(Term(1).get<Atom>(), Error);
    CHECK_THROWS_AS(Term(1).get<Atom>(), std::runtime_error);
}

TEST_CASE("huge terms are truncated in error messages", "[term][access][error]") {
    std::vector<Term> many(10000, Term(123456));
    const Term big = Term::list(many);
    try {
        (void)big.get<Atom>();
        FAIL("no exception");
    } catch (const BadArg& e) {
        const std::string what = e.what();
        CHECK(what.rfind("expected atom, got [123456,123456,", 0) == 0);
        CHECK(what.size() < 260);
        CHECK(what.substr(what.size() - 3) == "...");
    }
}

TEST_CASE("structure accessors check kind and bounds", "[term][access]") {
    const Term t = Term::tuple({1, 2});
    CHECK_THROWS_AS(t[2], BadArg);
    CHECK_THROWS_WITH(t[2], Catch::Contains("index 2 out of range"));
    CHECK_THROWS_AS(Term()[0], BadArg);
    CHECK_THROWS_AS(Term(1)[0], BadArg);
    CHECK_THROWS_WITH(Term(1).size(), "expected tuple, list, map or binary, got 1");
    CHECK_THROWS_AS(Term(1).elements(), BadArg);
    CHECK_THROWS_AS(Term().tail(), BadArg);
    CHECK_THROWS_AS(t.tail(), BadArg);
    CHECK_THROWS_AS(t.entries(), BadArg);
    CHECK_THROWS_AS(t.bytes(), BadArg);
    CHECK(Term::map({}).entries().empty());
    CHECK(Term::binary("xy").size() == 2);
    CHECK(Term::map({{1, 2}}).size() == 1);
}
