// Selective-receive pattern helpers.
#include <catch2/catch.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "otpp/match.hpp"

using namespace otpp;

namespace {
Term atom(const char* s) { return Term(Atom(s)); }
}  // namespace

TEST_CASE("the documented example", "[match]") {
    std::int64_t n = 0;
    auto p = match::tuple(Atom("sum"), match::bind(n));
    REQUIRE(p(Term::tuple({Atom("sum"), 10})));
    CHECK(n == 10);
    auto q = match::tuple(atoms::ok, match::bind(n));
    CHECK_FALSE(q(Term::tuple({Atom("sum"), 11})));
    CHECK(n == 10);
}

TEST_CASE("patterns satisfy the Pattern concept", "[match]") {
    std::int64_t n = 0;
    STATIC_REQUIRE(match::Pattern<decltype(match::_)>);
    STATIC_REQUIRE(match::Pattern<decltype(match::tuple(atoms::ok, match::bind(n)))>);
    STATIC_REQUIRE(match::Pattern<decltype(match::one_of(1, 2))>);
    STATIC_REQUIRE(match::Pattern<decltype([](const Term&) { return true; })>);
    STATIC_REQUIRE_FALSE(match::Pattern<int>);
    STATIC_REQUIRE(std::is_empty_v<match::Wildcard>);
    // Composed patterns hold only sub-patterns and pointers: no hidden state.
    STATIC_REQUIRE(sizeof(match::tuple(match::_, match::integer, match::atom)) == 1);
}

TEST_CASE("wildcard and kind patterns", "[match]") {
    const Term samples[] = {Term(1), Term(1.5), atom("a"), Term(Pid{}), Term(Ref{}), Term::binary("b"),
                            Term(), Term::list({1}), Term::map({}), Term::tuple({})};
    for (const Term& t : samples) {
        CHECK(match::_(t));
        CHECK(match::any(t));
        CHECK(match::integer(t) == t.is_integer());
        CHECK(match::floating(t) == t.is_float());
        CHECK(match::number(t) == t.is_number());
        CHECK(match::atom(t) == t.is_atom());
        CHECK(match::pid(t) == t.is_pid());
        CHECK(match::ref(t) == t.is_ref());
        CHECK(match::binary(t) == t.is_binary());
        CHECK(match::list(t) == t.is_list());
        CHECK(match::map(t) == t.is_map());
        CHECK(match::tuple_any(t) == t.is_tuple());
    }
}

TEST_CASE("literals match by exact equality", "[match]") {
    const Pid self{0, 7, 0};
    const Ref tag{0, 99};
    auto p = match::tuple(atoms::reply, self, tag, 42, 2.5, true, "text", Term::list({1}));
    CHECK(p(Term::tuple({atoms::reply, self, tag, 42, 2.5, true, "text", Term::list({1})})));
    CHECK_FALSE(p(Term::tuple({atoms::reply, self, Ref{0, 98}, 42, 2.5, true, "text", Term::list({1})})));
    CHECK_FALSE(p(Term::tuple({atoms::reply, self, tag, 42.0, 2.5, true, "text", Term::list({1})})));  // 42 vs 42.0
    CHECK_FALSE(p(Term::tuple({atoms::reply, self, tag, 42, 2.5, true, "texT", Term::list({1})})));
    CHECK_FALSE(p(Term::tuple({atoms::reply, self, tag, 42, 2.5, false, "text", Term::list({1})})));
    CHECK_FALSE(p(Term::tuple({atoms::reply, self, tag, 42, 2.5, true, "text", Term::list({1.0})})));
    // Arity must match exactly.
    CHECK_FALSE(match::tuple(atoms::ok)(Term::tuple({atoms::ok, 1})));
    CHECK_FALSE(match::tuple(atoms::ok, match::_)(Term::tuple({atoms::ok})));
    CHECK_FALSE(match::tuple(atoms::ok)(atom("ok")));
    // Unsigned literal beyond int64 never matches.
    CHECK_FALSE(match::tuple(~std::uint64_t{0})(Term::tuple({-1})));
    // A std::string literal is copied, so a temporary is safe.
    auto s = match::tuple(std::string("temp"));
    CHECK(s(Term::tuple({"temp"})));
}

TEST_CASE("nested tuples, list_of, one_of, all_of, guard", "[match]") {
    auto p = match::tuple(atoms::call, match::tuple(match::pid, match::ref), match::list_of(match::integer));
    CHECK(p(Term::tuple({atoms::call, Term::tuple({Pid{}, Ref{}}), Term::list({1, 2, 3})})));
    CHECK(p(Term::tuple({atoms::call, Term::tuple({Pid{}, Ref{}}), Term()})));
    CHECK_FALSE(p(Term::tuple({atoms::call, Term::tuple({Pid{}, Ref{}}), Term::list({1, 2.0})})));
    CHECK_FALSE(p(Term::tuple({atoms::call, Term::tuple({Pid{}, Ref{}}), Term::list(std::vector<Term>{1}, 2)})));

    auto alt = match::one_of(atoms::ok, match::tuple(atoms::error, match::_));
    CHECK(alt(atom("ok")));
    CHECK(alt(Term::tuple({atoms::error, 1})));
    CHECK_FALSE(alt(atom("error")));

    auto both = match::all_of(match::tuple_any, match::guard([](const Term& t) { return t.size() > 1; }));
    CHECK(both(Term::tuple({1, 2})));
    CHECK_FALSE(both(Term::tuple({1})));

    auto positive = match::guard([](const Term& t) { return t.get<std::int64_t>() > 0; });
    CHECK(positive(Term(5)));
    CHECK_FALSE(positive(Term(-5)));
    CHECK_FALSE(positive(atom("x")));  // get<> throws BadArg: a guard exception is "no match"
    auto lambda_in_tuple = match::tuple([](const Term& t) { return t.is_atom(); });
    CHECK(lambda_in_tuple(Term::tuple({atoms::ok})));
}

TEST_CASE("bind converts and stores typed values", "[match][bind]") {
    std::int64_t i = 0;
    double d = 0;
    Atom a;
    Pid pid;
    Ref ref;
    std::string_view sv;
    Term any;
    int small = 0;
    auto p = match::tuple(match::bind(i), match::bind(d), match::bind(a), match::bind(pid), match::bind(ref),
                          match::bind(sv), match::bind(any), match::bind(small));
    const Term msg = Term::tuple({7, 0.5, atoms::ok, Pid{0, 3, 1}, Ref{0, 9}, "bytes", Term::list({1}), 12});
    REQUIRE(p(msg));
    CHECK(i == 7);
    CHECK(d == 0.5);
    CHECK(a == atoms::ok);
    CHECK(pid == Pid{0, 3, 1});
    CHECK(ref == Ref{0, 9});
    CHECK(sv == "bytes");
    CHECK(any == Term::list({1}));
    CHECK(small == 12);
    // Conversion failure is a mismatch.
    CHECK_FALSE(match::bind(i)(Term(1.0)));
    CHECK_FALSE(match::bind(small)(Term(INT64_MAX)));
    // bind with an inner pattern.
    Term tag;
    CHECK(match::tuple(match::bind(tag, match::tuple(match::_, match::ref)))(Term::tuple({Term::tuple({1, Ref{}})})));
    CHECK(tag == Term::tuple({1, Ref{}}));
    CHECK_FALSE(match::bind(tag, atoms::ok)(atom("error")));
    CHECK(tag == Term::tuple({1, Ref{}}));
}

TEST_CASE("two-phase binding: a failed match never writes", "[match][bind]") {
    std::int64_t n = -1;
    Atom tag;
    // bind(n) precedes the element that fails: n must stay untouched.
    auto p = match::tuple(match::bind(n), match::bind(tag), atoms::ok);
    CHECK_FALSE(p(Term::tuple({5, atoms::error, atoms::error})));
    CHECK(n == -1);
    CHECK(tag == Atom());
    // Nested failure deep inside a later element.
    auto q = match::tuple(match::bind(n), match::tuple(1, match::tuple(2, atoms::ok)));
    CHECK_FALSE(q(Term::tuple({6, Term::tuple({1, Term::tuple({2, atoms::error})})})));
    CHECK(n == -1);
    CHECK(q(Term::tuple({6, Term::tuple({1, Term::tuple({2, atoms::ok})})})));
    CHECK(n == 6);

    // A receive scans the mailbox and stops at the first match: the bound
    // variables hold exactly the selected message's values.
    const std::vector<Term> mailbox = {
        Term::tuple({1, atoms::error, atoms::ok}),  // element 2 fails the bind(Atom)? no: atom ok; element 3 ok
        Term::tuple({2, 3, atoms::ok}),             // tag not an atom
        Term::tuple({3, atoms::nil, atoms::error}), // last element fails
        Term::tuple({4, atoms::reply, atoms::ok}),  // selected... unless an earlier one matched
    };
    n = -1;
    tag = Atom();
    std::size_t selected = mailbox.size();
    for (std::size_t k = 0; k < mailbox.size(); ++k) {
        if (p(mailbox[k])) {
            selected = k;
            break;
        }
    }
    CHECK(selected == 0);
    CHECK(n == 1);
    CHECK(tag == atoms::error);
    // Skip the first message: the next match is #3 (index 3), not #2 or #1.
    n = -1;
    tag = Atom();
    selected = mailbox.size();
    for (std::size_t k = 1; k < mailbox.size(); ++k) {
        if (p(mailbox[k])) {
            selected = k;
            break;
        }
    }
    CHECK(selected == 3);
    CHECK(n == 4);
    CHECK(tag == atoms::reply);
}

TEST_CASE("one_of binds from the alternative that matched", "[match][bind]") {
    std::int64_t n = 0;
    double d = 0;
    auto p = match::one_of(match::tuple(atoms::ok, match::bind(n)), match::tuple(atoms::ok, match::bind(d)));
    CHECK(p(Term::tuple({atoms::ok, 2.5})));
    CHECK(n == 0);
    CHECK(d == 2.5);
    CHECK(p(Term::tuple({atoms::ok, 3})));
    CHECK(n == 3);
    CHECK(d == 2.5);
}

TEST_CASE("list_of binds element by element (last wins)", "[match][bind]") {
    std::int64_t last = 0;
    auto p = match::list_of(match::bind(last));
    CHECK(p(Term::list({1, 2, 3})));
    CHECK(last == 3);
    CHECK_FALSE(p(Term::list({4, 5, atoms::ok})));
    CHECK(last == 3);
}
