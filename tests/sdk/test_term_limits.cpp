// Size and depth limits: no stack overflow, clear errors.
#include <catch2/catch.hpp>

#include <pthread.h>

#include <functional>
#include <string>

#include "otpp/term.hpp"

using namespace otpp;

namespace {

// Runs `fn` on a thread with a small stack, like a process fiber.
void run_on_small_stack(std::function<void()> fn) {
#if defined(OTPP_ASAN)
    constexpr std::size_t stack = 512 * 1024;  // ASan frames are several times larger
#else
    constexpr std::size_t stack = 64 * 1024;
#endif
    pthread_attr_t attr;
    REQUIRE(pthread_attr_init(&attr) == 0);
    REQUIRE(pthread_attr_setstacksize(&attr, stack) == 0);
    pthread_t th;
    auto trampoline = [](void* p) -> void* {
        (*static_cast<std::function<void()>*>(p))();
        return nullptr;
    };
    REQUIRE(pthread_create(&th, &attr, trampoline, &fn) == 0);
    pthread_join(th, nullptr);
    pthread_attr_destroy(&attr);
}

std::string nested_lists(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

Term nested_tuples(std::size_t depth) {
    Term t = Term(0);
    for (std::size_t i = 0; i < depth; ++i) t = Term::tuple({t});
    return t;
}

}  // namespace

TEST_CASE("1,000,000-deep input is a ParseError, not a crash", "[term][limits]") {
    const std::string deep(1'000'000, '[');
    bool threw = false;
    std::string what;
    run_on_small_stack([&] {
        try {
            (void)Term::parse(deep);
        } catch (const ParseError& e) {
            threw = true;
            what = e.what();
        }
    });
    CHECK(threw);
    CHECK(what == "column 10001: nesting deeper than 10000 levels");
}

TEST_CASE("nesting up to the limit parses and round-trips", "[term][limits]") {
    const Term t = Term::parse(nested_lists(Term::max_depth));
    CHECK(Term::parse(t.to_string()) == t);
    CHECK_THROWS_WITH(Term::parse(nested_lists(Term::max_depth + 1)), Catch::Contains("nesting deeper"));
    CHECK_THROWS_AS(Term::parse("#{a => " + std::string(Term::max_depth, '{')), ParseError);
}

TEST_CASE("input over 16 MiB is rejected", "[term][limits]") {
    std::string big = "<<\"" + std::string(20u << 20, 'a') + "\">>";
    CHECK_THROWS_WITH(Term::parse(big), Catch::Contains("input too large"));
    // Just under the limit is fine.
    std::string ok = "<<\"" + std::string((16u << 20) - 6, 'a') + "\">>";
    CHECK(Term::parse(ok).size() == (16u << 20) - 6);
}

TEST_CASE("deep terms built in code: destroy, compare, hash and print use no C stack", "[term][limits]") {
    const std::int64_t before = detail::live_boxes();
    run_on_small_stack([] {
        const std::size_t depth = 1'000'000;
        Term a = nested_tuples(depth);
        Term b = nested_tuples(depth);
        CHECK(a == b);
        CHECK((a <=> b) == std::strong_ordering::equal);
        CHECK(equal_numeric(a, b));
        CHECK(a.hash() == b.hash());
        Term c = Term::tuple({b});
        CHECK(a < c);
        const std::string text = a.to_string();
        CHECK(text.size() == Term::max_depth * 2 + 3);  // "{{...}}" with the innermost part elided
        CHECK(text.find("...") == Term::max_depth);
        CHECK(a.to_string(50).size() == 53);
        // Deep lists nest through elements; their destruction is iterative too.
        Term l;
        for (int i = 0; i < 300'000; ++i) l = Term::list({l, Term::map({{i, l}})});
        // Leaving the scope frees ~600,000 shared boxes (and the 2 million tuples) iteratively.
    });
    CHECK(detail::live_boxes() == before);
}
