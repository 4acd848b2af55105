// Pattern helpers for selective receive.
//
//   int64_t n = 0;
//   auto p = match::tuple(Atom("sum"), match::bind(n));
//   if (p(msg)) use(n);
//
// A pattern is a small value object, callable as bool(const Term&) (the
// otpp::match::Pattern concept). Patterns compose without allocating and
// without virtual calls; everything is header-only and stateless apart from
// the addresses that bind() writes to.
//
// Two-phase matching. Every pattern built here has
//   bool matches(const Term&) const noexcept   - pure test, no side effects
//   void bind_from(const Term&) const noexcept - performs the binds; called
//                                                only after matches() succeeded
// and operator() is "matches, then bind_from". So a pattern writes its bound
// variables only when the *whole* pattern matched: a message that fails on a
// later element never leaves partial values behind. When the runtime scans a
// mailbox and stops at the first message the pattern accepts, the bound
// variables hold the values from exactly that (the selected) message; when
// nothing matches they are untouched.
//
// Literals inside patterns: an Atom, bool, Pid, Ref, integer, floating-point
// value or Term matches by exact equality (==, so 1 does not match 1.0); a
// string literal / std::string_view matches a binary with those bytes; any
// other callable bool(const Term&) acts as a guard.
//
// Lifetimes: bind(x) stores &x; x must outlive the pattern's use. A bound
// std::string_view points into the message's binary and is valid while the
// message Term lives.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "otpp/atom.hpp"
#include "otpp/term.hpp"

namespace otpp::match {

// Anything usable as a receive predicate.
template <class P>
concept Pattern = std::is_invocable_r_v<bool, const P&, const Term&>;

// A pattern that supports two-phase matching (all patterns made here do).
template <class P>
concept TwoPhasePattern = requires(const P& p, const Term& t) {
    { p.matches(t) } -> std::same_as<bool>;
    p.bind_from(t);
};

// CRTP base: operator() = matches() then bind_from().
template <class Derived>
struct PatternBase {
    bool operator()(const Term& t) const noexcept {
        const auto& self = static_cast<const Derived&>(*this);
        if (!self.matches(t)) return false;
        self.bind_from(t);
        return true;
    }
};

// ----- leaf patterns -------------------------------------------------------------

struct Wildcard : PatternBase<Wildcard> {
    constexpr bool matches(const Term&) const noexcept { return true; }
    constexpr void bind_from(const Term&) const noexcept {}
};

// Matches terms of one kind.
template <TermKind K>
struct KindIs : PatternBase<KindIs<K>> {
    constexpr bool matches(const Term& t) const noexcept { return t.kind() == K; }
    constexpr void bind_from(const Term&) const noexcept {}
};

struct IsNumber : PatternBase<IsNumber> {
    bool matches(const Term& t) const noexcept { return t.is_number(); }
    constexpr void bind_from(const Term&) const noexcept {}
};

// [] or a non-empty list.
struct IsList : PatternBase<IsList> {
    bool matches(const Term& t) const noexcept { return t.is_list(); }
    constexpr void bind_from(const Term&) const noexcept {}
};

inline constexpr Wildcard _{};
inline constexpr Wildcard any{};
inline constexpr KindIs<TermKind::Integer> integer{};
inline constexpr KindIs<TermKind::Float> floating{};
inline constexpr IsNumber number{};
inline constexpr KindIs<TermKind::Atom> atom{};
inline constexpr KindIs<TermKind::Pid> pid{};
inline constexpr KindIs<TermKind::Reference> ref{};
inline constexpr KindIs<TermKind::Binary> binary{};
inline constexpr IsList list{};
inline constexpr KindIs<TermKind::Map> map{};
inline constexpr KindIs<TermKind::Tuple> tuple_any{};

// Exact-equality literal for an immediate or a Term.
template <class V>
struct Literal : PatternBase<Literal<V>> {
    V value;
    bool matches(const Term& t) const noexcept {
        if constexpr (std::is_same_v<V, Term>) {
            return t == value;
        } else if constexpr (std::is_same_v<V, Atom>) {
            return t.is_atom(value);
        } else {
            const auto v = t.try_get<V>();
            return v.has_value() && *v == value;
        }
    }
    constexpr void bind_from(const Term&) const noexcept {}
};

// A float literal (exact: 0.5 matches 0.5, not 1/2 as an integer).
struct FloatLiteral : PatternBase<FloatLiteral> {
    double value;
    bool matches(const Term& t) const noexcept { return t.is_float() && t == Term(value); }
    constexpr void bind_from(const Term&) const noexcept {}
};

// A binary with exactly these bytes.
struct BytesLiteral : PatternBase<BytesLiteral> {
    std::string_view value;
    bool matches(const Term& t) const noexcept { return t.is_binary() && t.bytes() == value; }
    constexpr void bind_from(const Term&) const noexcept {}
};

// An integer literal; one outside int64 (huge unsigned) never matches.
struct IntLiteral : PatternBase<IntLiteral> {
    std::int64_t value;
    bool representable;
    bool matches(const Term& t) const noexcept {
        return representable && t.is_integer() && t.get<std::int64_t>() == value;
    }
    constexpr void bind_from(const Term&) const noexcept {}
};

// Any callable bool(const Term&). As in an Erlang guard, an exception thrown
// by the predicate counts as "no match".
template <class F>
struct Guard : PatternBase<Guard<F>> {
    F pred;
    bool matches(const Term& t) const noexcept {
        try {
            return static_cast<bool>(pred(t));
        } catch (...) {
            return false;
        }
    }
    constexpr void bind_from(const Term&) const noexcept {}
};

// ----- conversion of pattern arguments ---------------------------------------------

template <class X>
constexpr auto as_pattern(X&& x) {
    using D = std::remove_cvref_t<X>;
    if constexpr (TwoPhasePattern<D>) {
        return D(std::forward<X>(x));
    } else if constexpr (std::is_same_v<D, Atom>) {
        return Literal<Atom>{{}, x};
    } else if constexpr (std::is_same_v<D, bool>) {
        return Literal<Atom>{{}, x ? atoms::true_ : atoms::false_};
    } else if constexpr (std::is_integral_v<D>) {
        if constexpr (std::is_unsigned_v<D>) {
            const bool fits = static_cast<std::uint64_t>(x) <=
                              static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
            return IntLiteral{{}, fits ? static_cast<std::int64_t>(x) : 0, fits};
        } else {
            return IntLiteral{{}, static_cast<std::int64_t>(x), true};
        }
    } else if constexpr (std::is_floating_point_v<D>) {
        return FloatLiteral{{}, static_cast<double>(x)};
    } else if constexpr (std::is_same_v<D, Pid> || std::is_same_v<D, Ref>) {
        return Literal<D>{{}, x};
    } else if constexpr (std::is_same_v<D, Term>) {
        return Literal<Term>{{}, std::forward<X>(x)};
    } else if constexpr (std::is_same_v<D, std::string>) {
        // Owning copy (a binary Term) so a temporary string cannot dangle.
        return Literal<Term>{{}, Term(x)};
    } else if constexpr (std::is_convertible_v<const D&, std::string_view>) {
        return BytesLiteral{{}, std::string_view(x)};
    } else if constexpr (std::is_invocable_r_v<bool, const D&, const Term&>) {
        return Guard<D>{{}, std::forward<X>(x)};
    } else {
        static_assert(otpp::detail::dependent_false<D>,
                      "not usable in a pattern: expected a pattern, a literal "
                      "(Atom, bool, integer, double, Pid, Ref, Term, string) or a bool(const Term&) callable");
    }
}

template <class X>
using pattern_t = decltype(as_pattern(std::declval<X>()));

// ----- combinators -------------------------------------------------------------------

// A tuple of exactly sizeof...(Ps) elements, element i matching pattern i.
template <class... Ps>
struct Tuple : PatternBase<Tuple<Ps...>> {
    std::tuple<Ps...> parts;

    bool matches(const Term& t) const noexcept {
        if (!t.is_tuple(sizeof...(Ps))) return false;
        const Term* e = t.elements().data();
        return std::apply([e](const auto&... p) {
            std::size_t i = 0;
            return (p.matches(e[i++]) && ...);
        }, parts);
    }
    void bind_from(const Term& t) const noexcept {
        const Term* e = t.elements().data();
        std::apply([e](const auto&... p) {
            std::size_t i = 0;
            (p.bind_from(e[i++]), ...);
        }, parts);
    }
};

// A proper list ([] included) whose every element matches p. Binds inside p
// are applied element by element, so they end up holding the last element's values.
template <class P>
struct ListOf : PatternBase<ListOf<P>> {
    P part;
    bool matches(const Term& t) const noexcept {
        if (!t.is_proper_list()) return false;
        for (const Term& e : t.elements())
            if (!part.matches(e)) return false;
        return true;
    }
    void bind_from(const Term& t) const noexcept {
        for (const Term& e : t.elements()) part.bind_from(e);
    }
};

// Matches if any alternative matches; binds from the first one that does.
template <class... Ps>
struct OneOf : PatternBase<OneOf<Ps...>> {
    std::tuple<Ps...> alternatives;
    bool matches(const Term& t) const noexcept {
        return std::apply([&t](const auto&... p) { return (p.matches(t) || ...); }, alternatives);
    }
    void bind_from(const Term& t) const noexcept {
        std::apply([&t](const auto&... p) { (void)((p.matches(t) && (p.bind_from(t), true)) || ...); },
                   alternatives);
    }
};

// Matches if every pattern matches; binds from all of them.
template <class... Ps>
struct AllOf : PatternBase<AllOf<Ps...>> {
    std::tuple<Ps...> parts;
    bool matches(const Term& t) const noexcept {
        return std::apply([&t](const auto&... p) { return (p.matches(t) && ...); }, parts);
    }
    void bind_from(const Term& t) const noexcept {
        std::apply([&t](const auto&... p) { (p.bind_from(t), ...); }, parts);
    }
};

// Matches when the term converts to T (Term::try_get<T>) and, if given, the
// inner pattern matches; on a complete match stores the value into *target.
// T: any integer type, double, bool, Atom, Pid, Ref, std::string_view,
// std::string or Term (always matches).
template <class T, class P = Wildcard>
struct Bind : PatternBase<Bind<T, P>> {
    T* target;
    P inner{};
    bool matches(const Term& t) const noexcept {
        if constexpr (std::is_same_v<T, Term>) {
            return inner.matches(t);
        } else {
            return t.try_get<T>().has_value() && inner.matches(t);
        }
    }
    void bind_from(const Term& t) const noexcept {
        inner.bind_from(t);
        if constexpr (std::is_same_v<T, Term>) {
            *target = t;
        } else {
            *target = *t.try_get<T>();
        }
    }
};

template <class... Xs>
constexpr auto tuple(Xs&&... xs) {
    return Tuple<pattern_t<Xs>...>{{}, {as_pattern(std::forward<Xs>(xs))...}};
}

template <class X>
constexpr auto list_of(X&& x) {
    return ListOf<pattern_t<X>>{{}, as_pattern(std::forward<X>(x))};
}

template <class... Xs>
constexpr auto one_of(Xs&&... xs) {
    static_assert(sizeof...(Xs) > 0, "one_of needs at least one alternative");
    return OneOf<pattern_t<Xs>...>{{}, {as_pattern(std::forward<Xs>(xs))...}};
}

template <class... Xs>
constexpr auto all_of(Xs&&... xs) {
    return AllOf<pattern_t<Xs>...>{{}, {as_pattern(std::forward<Xs>(xs))...}};
}

template <class F>
constexpr auto guard(F&& pred) {
    return Guard<std::remove_cvref_t<F>>{{}, std::forward<F>(pred)};
}

template <class T>
constexpr auto bind(T& target) {
    return Bind<T>{{}, &target, {}};
}

// bind(x, p): matches p (and the conversion to T), then stores the term into x.
template <class T, class X>
constexpr auto bind(T& target, X&& inner) {
    return Bind<T, pattern_t<X>>{{}, &target, as_pattern(std::forward<X>(inner))};
}

}  // namespace otpp::match
