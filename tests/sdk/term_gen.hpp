// Pseudo-random term generator for property-style tests (fixed seeds, so
// failures are reproducible).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "otpp/term.hpp"

namespace otpp::test {

class TermGen {
public:
    explicit TermGen(std::uint64_t seed) : rng_(seed) {}

    Term term(int depth = 4) {
        const int leaf_kinds = 8;
        const int choice = depth <= 0 ? pick(leaf_kinds) : pick(leaf_kinds + 3);
        switch (choice) {
            case 0: return integer();
            case 1: return floating();
            case 2: return Term(atom());
            case 3: return Term(Pid{pick_u32(3), pick_u32(1000), pick_u32(3)});
            case 4: return Term(Ref{pick_u32(3), rng_()});
            case 5: return Term();
            case 6:
            case 7: return binary();
            case 8: {
                std::vector<Term> es;
                for (int i = pick(5); i > 0; --i) es.push_back(term(depth - 1));
                return Term::tuple(std::span<const Term>(es));
            }
            case 9: {
                std::vector<Term> es;
                for (int i = pick(5); i > 0; --i) es.push_back(term(depth - 1));
                Term tail;
                if (pick(4) == 0) {
                    tail = term(depth - 1);
                    if (tail.is_list()) tail = integer();  // keep it improper
                }
                return Term::list(std::span<const Term>(es), tail);
            }
            default: {
                std::vector<std::pair<Term, Term>> es;
                for (int i = pick(5); i > 0; --i) es.emplace_back(term(depth - 1), term(depth - 1));
                return Term::map(es);
            }
        }
    }

    Term integer() {
        switch (pick(5)) {
            case 0: return Term(static_cast<std::int64_t>(pick(21)) - 10);
            case 1: return Term(static_cast<std::int64_t>(rng_()));
            case 2: return Term(pick(2) ? INT64_MAX : INT64_MIN);
            case 3: return Term(static_cast<std::int64_t>(1) << pick(63));
            default: return Term(static_cast<std::int64_t>(rng_() % 100000) - 50000);
        }
    }

    Term floating() {
        switch (pick(6)) {
            case 0: return Term(static_cast<double>(pick(21)) - 10.0);
            case 1: return Term(-0.0);
            case 2: return Term(std::ldexp(1.0, pick(2098) - 1074));  // subnormals .. huge
            case 3: return Term(static_cast<double>(pick(1000)) / 7.0);
            default: {
                for (;;) {
                    const double d = std::bit_cast<double>(rng_());
                    if (std::isfinite(d)) return Term(d);
                }
            }
        }
    }

    Atom atom() {
        static const char* const pool[] = {"ok",        "error",   "EXIT",   "hello world", "",         "Foo",
                                           "foo_bar@x", "and",     "it's",   "back\\slash", "tab\there", "x\x7fy",
                                           "caf\xc3\xa9", "\xe2\x9c\x93", "a\"b", "nonode@nohost", "_x",    "9lives"};
        return Atom(pool[pick(static_cast<int>(std::size(pool)))]);
    }

    Term binary() {
        std::string s;
        const int n = pick(12);
        if (pick(2) == 0) {
            static const char* const pieces[] = {"a", "Z", " ", "\"", "\\", "\n", "\t", "caf\xc3\xa9", "\xf0\x9f\x98\x80", "'", "~", "{"};
            for (int i = 0; i < n; ++i) s += pieces[pick(static_cast<int>(std::size(pieces)))];
        } else {
            for (int i = 0; i < n; ++i) s += static_cast<char>(rng_() & 0xFF);
        }
        return Term::binary(s);
    }

    int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }
    std::uint32_t pick_u32(std::uint32_t n) { return static_cast<std::uint32_t>(rng_() % n); }

private:
    std::mt19937_64 rng_;
};

}  // namespace otpp::test
