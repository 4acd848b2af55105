// Reference counting across threads.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "otpp/term.hpp"

using namespace otpp;

TEST_CASE("copying a shared tuple from 4 threads leaks nothing", "[term][refcount][threads]") {
    const std::int64_t before = detail::live_boxes();
    {
        const Term shared = Term::tuple({Atom("msg"), Term::binary("payload"), Term::list({1, 2, 3})});
        REQUIRE(detail::live_boxes() - before == 3);
        std::atomic<bool> go{false};
        std::vector<std::thread> pool;
        std::atomic<int> mismatches{0};
        for (int t = 0; t < 4; ++t) {
            pool.emplace_back([&] {
                while (!go.load()) std::this_thread::yield();
                std::vector<Term> keep;
                keep.reserve(64);
                for (int i = 0; i < 100'000; ++i) {
                    Term copy = shared;             // increment
                    Term moved = std::move(copy);   // free
                    keep.push_back(moved);          // increment
                    if (keep.size() == 64) keep.clear();  // decrements
                    if ((i & 1023) == 0 && !(moved == shared)) mismatches.fetch_add(1);
                }
            });
        }
        go = true;
        for (auto& th : pool) th.join();
        CHECK(mismatches.load() == 0);
        CHECK(detail::live_boxes() - before == 3);
    }
    CHECK(detail::live_boxes() == before);
}

TEST_CASE("the last reference may be dropped on any thread", "[term][refcount][threads]") {
    const std::int64_t before = detail::live_boxes();
    for (int round = 0; round < 200; ++round) {
        std::vector<Term> terms;
        for (int i = 0; i < 50; ++i) terms.push_back(Term::tuple({i, Term::list({i, Term::binary("x")})}));
        std::vector<Term> copy_a = terms;
        std::vector<Term> copy_b = terms;
        terms.clear();
        std::thread ta([v = std::move(copy_a)]() mutable { v.clear(); });
        std::thread tb([v = std::move(copy_b)]() mutable { v.clear(); });
        ta.join();
        tb.join();
    }
    CHECK(detail::live_boxes() == before);
}

TEST_CASE("structure sharing: building from existing terms shares boxes", "[term][refcount]") {
    const std::int64_t before = detail::live_boxes();
    {
        const Term inner = Term::binary("big payload");
        const Term outer = Term::tuple({inner, inner, inner});
        CHECK(detail::live_boxes() - before == 2);  // one binary box, one tuple box
        const Term m1 = Term::map({{1, outer}});
        const Term m2 = m1.put(2, outer);
        CHECK(detail::live_boxes() - before == 4);  // plus two map boxes
        CHECK(m2.find(1)->elements()[0].bytes().data() == inner.bytes().data());  // same bytes, not a copy
    }
    CHECK(detail::live_boxes() == before);
}
