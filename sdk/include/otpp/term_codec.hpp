// Converting ordinary C++ values to and from otpp::Term.
//
//   struct State {
//       int64_t count = 0;
//       std::string name;
//       std::map<std::string, int64_t> totals;
//       OTPP_TERM_FIELDS(count, name, totals)
//   };
//   Term t = to_term(state);            // #{count => 0,name => <<"...">>,totals => #{...}}
//   State s = from_term<State>(t);
//
// This is how a GenServer's state crosses a hot code upgrade: the old version
// turns its state into a Term, the new version builds its own state from it.
//
// ----- API ---------------------------------------------------------------------
//
//   Term to_term(const T&)          encodes; BadArg if a value has no term form
//                                   (an unsigned above INT64_MAX, a NaN, ...).
//   T from_term<T>(const Term&)     decodes; BadArg when the term has the wrong
//                                   shape, e.g.
//     from_term<Config>: at .limits.max: expected integer, got <<"ten">>
//   TermEncodable<T>, TermDecodable<T>, TermCodable<T>   concepts
//   for_each_field(obj, f)          calls f(std::string_view name, field&) for
//                                   every field listed in OTPP_TERM_FIELDS
//
// Both top-level functions throw plain otpp::BadArg (never a type defined in
// this header), so the exception may safely outlive a plugin that threw it.
//
// ----- how a type is converted (first match wins) --------------------------------
//
// 1. An explicit specialization of otpp::TermCodec<T>:
//        template <> struct otpp::TermCodec<Point> {
//            static Term encode(const Point& p) { return Term::tuple({p.x, p.y}); }
//            static Point decode(const Term& t) { ... }   // throw BadArg on bad shape
//        };
//    Either function may be left out (the type is then encode-only or
//    decode-only). Inside decode, convert parts with otpp::TermCodec<U>::decode
//    so that errors carry the full path; calling from_term<U> also works, but
//    its message is then nested in the outer one.
// 2. Member functions `Term to_term() const` (encoding) and/or
//    `static T from_term(const Term&)` (decoding).
// 3. OTPP_TERM_FIELDS(field, ...) inside the struct (see below). Where a type
//    has both, a member function from 2 wins for its direction.
// 4. The built-in codecs:
//      integers (all types, bool excluded)  integer; decode is range-checked
//                                            (40000 into int16_t is BadArg)
//      bool                                  the atoms true / false
//      float, double                         float; decode also accepts an
//                                            integer if the type represents it
//                                            exactly (2^53 + 1 is BadArg for
//                                            double); a float outside float's
//                                            range is BadArg for float
//      std::string                           binary (decode accepts only binaries)
//      std::string_view, const char*, char[N] binary (encode only: a decoded
//                                            view would point into the term)
//      otpp::Atom, otpp::Pid, otpp::Ref      atom, pid, reference
//      otpp::Term                            itself
//      std::optional<T>                      nullopt <-> the atom `undefined`
//                                            (like an Erlang record's default);
//                                            so optional<Atom>{undefined} reads
//                                            back as nullopt
//      std::vector, std::deque, std::list    proper list
//      std::set, std::unordered_set          proper list sorted in term order
//                                            (like ordsets); decode takes any
//                                            proper list, duplicates merge
//      std::array<T, N>                      tuple of arity N
//      std::pair, std::tuple                 tuple
//      std::map, std::unordered_map          map (keys: any encodable type);
//                                            two term keys that decode to the
//                                            same C++ key (1 and 1.0 as double)
//                                            are BadArg, nothing is dropped
//      std::chrono::duration<Rep, Period>    its count() in its OWN unit, no
//                                            conversion: milliseconds{1500} is
//                                            1500, seconds{2} is 2. Changing a
//                                            field's unit between versions
//                                            needs a code_change.
//      enums                                 the underlying integer; or, if an
//                                            ADL-visible otpp_enum_names(E)
//                                            exists, atoms (below)
//    Nothing else is built in (no std::variant, pointers, time_points): give
//    such types a codec of their own. std::vector<uint8_t> is a list of
//    integers, not a binary; use std::string for bytes.
//
// Enums as atoms: declare, next to the enum (namespace scope, or as a friend
// inside the enclosing class), a function found by ADL that returns a range
// of {value, name} pairs, e.g. by value (no static needed):
//     enum class Mode { fast, safe };
//     constexpr auto otpp_enum_names(Mode) {
//         return std::array{std::pair{Mode::fast, "fast"}, std::pair{Mode::safe, "safe"}};
//     }
// Encoding a value that is not in the list and decoding an atom that is not
// in it are BadArg.
//
// ----- OTPP_TERM_FIELDS: structs as maps, and the upgrade rules -------------------
//
// OTPP_TERM_FIELDS(a, b, c) inside a struct or class (any access section; up
// to 256 fields, zero included) makes it convert to the map
// #{a => ..., b => ..., c => ...}: one entry per listed field, keyed by the
// field's name as an atom, valued by the field's own conversion. Fields not
// listed are not converted. Decoding:
//   * starts from a value-initialized T{} (so T must be default-constructible),
//     which gives every field its default member initializer;
//   * a field whose key is missing from the map KEEPS THAT DEFAULT — a field
//     the old version did not have gets its default in the new version;
//   * keys that name no field are IGNORED — a field the new version dropped
//     is silently discarded;
//   * a present field whose value has the wrong shape is BadArg, with the
//     path to it: "at .limits.max: expected integer, got <<"ten">>";
//   * the term must be a map (anything else is BadArg).
// So an upgrade that adds a field with a default, drops a field, or changes a
// field's type in a compatible way (int -> double: doubles accept integers;
// int32_t -> int64_t; T -> optional<T>; vector -> deque/list/set) needs no
// code_change at all. Renaming a field, changing its unit or meaning, or an
// incompatible type change does: decode the old term by hand there.
// The macro adds member functions only (no data), so the struct stays an
// aggregate. It cannot list bit-fields, and a derived class inherits its
// base's field list unless it has its own OTPP_TERM_FIELDS (which must then
// list the base's fields too if they are to be converted).
//
// ----- paths in error messages ---------------------------------------------------
//
//   .name     the field `name` of an OTPP_TERM_FIELDS struct
//   [i]       the i-th element (0-based) of a list (vector, deque, list, set)
//   {i}       the i-th element (0-based) of a tuple (pair, tuple, array)
//   #{K}      the value under key K of a map (std::map, unordered_map)
//   #key{K}   the key K itself (it did not decode to the C++ key type)
//   #key[i]   the key of the i-th entry, when encoding it failed
// e.g. "from_term<State>: at .groups#{<<"eu">>}[2].name: expected binary, got 42".
// An optional adds no segment. The root has an empty path: "from_term<int>:
// expected integer, got foo".
//
// ----- implementation notes -------------------------------------------------------
//
// Header-only and stateless: no function-local statics, no non-constexpr
// statics, nothing exported (plugins are built with -fno-gnu-unique and hidden
// visibility, and must stay unloadable). Atoms for field names are interned at
// conversion time. Conversion recurses on the C stack, one level per nesting
// level of the C++ type: keep it away from deeply recursive structures on
// small fiber stacks. Path bookkeeping costs nothing until an error occurs.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <iterator>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "otpp/atom.hpp"
#include "otpp/error.hpp"
#include "otpp/term.hpp"

namespace otpp {

// The customization point. The primary template is empty: "no codec".
// Specialize it for your own types (see the header comment).
template <class T>
struct TermCodec {};

// T (cv/ref ignored) has an encoder.
template <class T>
concept TermEncodable = requires(const std::remove_cvref_t<T>& value) {
    { TermCodec<std::remove_cvref_t<T>>::encode(value) } -> std::convertible_to<Term>;
};

// T (an object type, not const) has a decoder.
template <class T>
concept TermDecodable = std::is_object_v<T> && !std::is_const_v<T> && requires(const Term& term) {
    { TermCodec<T>::decode(term) } -> std::convertible_to<T>;
};

template <class T>
concept TermCodable = TermEncodable<T> && TermDecodable<T>;

template <class T>
Term to_term(const T& value);
template <class T>
T from_term(const Term& term);

namespace detail {

// Reaches the members generated by OTPP_TERM_FIELDS (which befriends this),
// whatever access section the macro was placed in.
struct FieldAccess {
    template <class T, class F>
    static auto visit(T& obj, F&& f) -> decltype(obj.otpp_fields(std::forward<F>(f))) {
        return obj.otpp_fields(std::forward<F>(f));
    }
    template <class T>
    static constexpr auto names() noexcept -> decltype(T::otpp_field_names()) {
        return T::otpp_field_names();
    }
};

// Accepts any field: used only to detect the generated members.
struct AnyFieldVisitor {
    template <class Field>
    void operator()(std::string_view, Field&) const noexcept {}
};

template <class T>
concept HasTermFields = std::is_class_v<T> && requires(T& obj, const T& cobj) {
    FieldAccess::visit(obj, AnyFieldVisitor{});
    FieldAccess::visit(cobj, AnyFieldVisitor{});
    FieldAccess::names<T>();
};

template <class T>
concept HasMemberToTerm = std::is_class_v<T> && requires(const T& obj) {
    { obj.to_term() } -> std::convertible_to<Term>;
};

template <class T>
concept HasMemberFromTerm = std::is_class_v<T> && requires(const Term& term) {
    { T::from_term(term) } -> std::convertible_to<T>;
};

// ADL-only: there is deliberately no otpp_enum_names in namespace otpp.
template <class E>
concept HasEnumNames = std::is_enum_v<E> && requires(E e) {
    otpp_enum_names(e);
    { (*std::begin(otpp_enum_names(e))).first } -> std::convertible_to<E>;
    { (*std::begin(otpp_enum_names(e))).second } -> std::convertible_to<std::string_view>;
};

template <class T>
concept CodecInteger = std::integral<T> && !std::same_as<std::remove_cv_t<T>, bool> && sizeof(T) <= 8;

template <class T>
concept CodecFloat = std::same_as<T, float> || std::same_as<T, double>;

// Terms shown in messages are cut after this many characters (as Term::get does).
inline constexpr std::size_t error_term_chars = 200;
// Map keys shown in paths are cut shorter.
inline constexpr std::size_t path_key_chars = 60;

// ----- type names for messages (compile-time, no RTTI, no statics) -----------------

template <class T>
constexpr std::string_view pretty_function() noexcept {
    return __PRETTY_FUNCTION__;
}

template <class T>
constexpr std::string_view type_name_view() noexcept {
#if defined(__clang__) || defined(__GNUC__)
    // "... pretty_function() [with T = X; ...]" (GCC) / "... [T = X]" (Clang)
    const std::string_view p = pretty_function<T>();
    const std::size_t at = p.find("T = ");
    if (at == std::string_view::npos) return "T";
    const std::size_t b = at + 4;
    std::size_t e = p.find(';', b);
    if (e == std::string_view::npos) e = p.rfind(']');
    if (e == std::string_view::npos || e < b) return "T";
    return p.substr(b, e - b);
#else
    return "T";
#endif
}

inline void replace_all(std::string& s, std::string_view from, std::string_view to) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
}

// The name of T as the compiler spells it, lightly tidied.
template <class T>
std::string type_name() {
    constexpr std::size_t n = type_name_view<T>().size();
    // A non-static constexpr copy: the name is never stored in a named object.
    constexpr std::array<char, n> chars = [] {
        std::array<char, n> out{};
        const std::string_view v = type_name_view<T>();
        for (std::size_t i = 0; i < n; ++i) out[i] = v[i];
        return out;
    }();
    std::string s(chars.data(), n);
    replace_all(s, "std::__cxx11::", "std::");
    replace_all(s, "std::basic_string<char, std::char_traits<char>, std::allocator<char> >", "std::string");
    replace_all(s, "std::basic_string<char>", "std::string");
    replace_all(s, "std::basic_string_view<char, std::char_traits<char> >", "std::string_view");
    replace_all(s, "std::basic_string_view<char>", "std::string_view");
    replace_all(s, " >", ">");  // C++03-style "> >" left by the replacements above
    return s;
}

// ----- error paths ------------------------------------------------------------------

// One step of a path; formatted only when an error passes through it.
struct PathSegment {
    enum Kind : unsigned char { field, list_index, tuple_index, map_value, map_key, map_key_index };
    Kind kind;
    std::string_view name{};     // field
    std::size_t index = 0;       // list_index, tuple_index, map_key_index
    const Term* key = nullptr;   // map_value, map_key

    std::string to_string() const {
        switch (kind) {
            case field: return "." + std::string(name);
            case list_index: return "[" + std::to_string(index) + "]";
            case tuple_index: return "{" + std::to_string(index) + "}";
            case map_value: return "#{" + key->to_string(path_key_chars) + "}";
            case map_key: return "#key{" + key->to_string(path_key_chars) + "}";
            case map_key_index: return "#key[" + std::to_string(index) + "]";
        }
        return "?";
    }
};

inline PathSegment field_segment(std::string_view name) noexcept { return {PathSegment::field, name, 0, nullptr}; }
inline PathSegment list_segment(std::size_t i) noexcept { return {PathSegment::list_index, {}, i, nullptr}; }
inline PathSegment tuple_segment(std::size_t i) noexcept { return {PathSegment::tuple_index, {}, i, nullptr}; }
inline PathSegment value_segment(const Term& key) noexcept { return {PathSegment::map_value, {}, 0, &key}; }
inline PathSegment key_segment(const Term& key) noexcept { return {PathSegment::map_key, {}, 0, &key}; }
inline PathSegment key_index_segment(std::size_t i) noexcept {
    return {PathSegment::map_key_index, {}, i, nullptr};
}

// A BadArg that knows where in the value it happened. Thrown and caught
// inside conversions; to_term/from_term turn it into a plain BadArg. (It can
// reach a caller of TermCodec<X>::encode/decode directly; it is a BadArg.)
class CodecError : public BadArg {
public:
    CodecError(std::string path, std::string message)
        : BadArg("at " + path + ": " + message), path_(std::move(path)), message_(std::move(message)) {}
    const std::string& path() const noexcept { return path_; }
    const std::string& message() const noexcept { return message_; }

private:
    std::string path_;
    std::string message_;
};

// Runs f(); a BadArg escaping it gets `segment` prepended to its path.
template <class F>
decltype(auto) within(const PathSegment& segment, F&& f) {
    try {
        return std::forward<F>(f)();
    } catch (const CodecError& e) {
        throw CodecError(segment.to_string() + e.path(), e.message());
    } catch (const BadArg& e) {
        throw CodecError(segment.to_string(), e.what());
    }
}

// "from_term<T>: at PATH: MESSAGE" / "from_term<T>: MESSAGE", as a plain BadArg.
[[noreturn]] inline void throw_top_level(const char* function, const std::string& type, const CodecError& e) {
    throw BadArg(std::string(function) + "<" + type + ">: at " + e.path() + ": " + e.message());
}
[[noreturn]] inline void throw_top_level(const char* function, const std::string& type, const BadArg& e) {
    throw BadArg(std::string(function) + "<" + type + ">: " + e.what());
}

[[noreturn]] inline void throw_bad_shape(std::string expected, const Term& got) {
    throw BadArg("expected " + expected + ", got " + got.to_string(error_term_chars));
}

// ----- recursion helpers ------------------------------------------------------------

template <class T>
Term encode_value(const T& value) {
    static_assert(TermEncodable<T>,
                  "no TermCodec for T: add OTPP_TERM_FIELDS(...) to the struct, give it "
                  "`Term to_term() const`, or specialize otpp::TermCodec<T>");
    if constexpr (TermEncodable<T>) return Term(TermCodec<T>::encode(value));
    else return Term();
}

template <class T>
T decode_value(const Term& term) {
    static_assert(!std::is_same_v<T, std::string_view>,
                  "from_term<std::string_view> would point into the term: decode to std::string");
    static_assert(TermDecodable<T>,
                  "no TermCodec decoder for T: add OTPP_TERM_FIELDS(...) to the struct, give it "
                  "`static T from_term(const Term&)`, or specialize otpp::TermCodec<T>");
    if constexpr (TermDecodable<T>) return T(TermCodec<T>::decode(term));
    else return *static_cast<T*>(nullptr);  // unreachable: the static_assert failed
}

template <std::size_t N>
constexpr bool names_unique(const std::array<std::string_view, N>& names) noexcept {
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t j = i + 1; j < N; ++j)
            if (names[i] == names[j]) return false;
    return true;
}

template <class C>
std::vector<Term> encode_items(const C& items) {
    using V = typename C::value_type;
    std::vector<Term> out;
    out.reserve(items.size());
    std::size_t i = 0;
    for (const V& item : items) {
        out.push_back(within(list_segment(i), [&] { return encode_value<V>(item); }));
        ++i;
    }
    return out;
}

template <class C>
Term encode_list(const C& items) {
    return Term::list(encode_items(items));
}

// Sorted in term order, like an Erlang ordset.
template <class C>
Term encode_sorted_list(const C& items) {
    std::vector<Term> out = encode_items(items);
    std::sort(out.begin(), out.end());
    return Term::list(std::move(out));
}

// Decodes a proper list into `out` with add(out, value).
template <class V, class C, class Add>
void decode_list_into(const Term& term, C& out, Add add) {
    if (!term.is_proper_list()) throw_bad_shape("proper list", term);
    const std::span<const Term> elements = term.elements();
    for (std::size_t i = 0; i < elements.size(); ++i)
        add(out, within(list_segment(i), [&] { return decode_value<V>(elements[i]); }));
}

template <class C>
C decode_sequence(const Term& term) {
    using V = typename C::value_type;
    C out;
    if constexpr (requires(C& c) { c.reserve(std::size_t{}); })
        if (term.is_list()) out.reserve(term.elements().size());
    decode_list_into<V>(term, out, [](C& c, V&& v) { c.push_back(std::move(v)); });
    return out;
}

template <class C>
C decode_set(const Term& term) {
    using V = typename C::value_type;
    C out;
    decode_list_into<V>(term, out, [](C& c, V&& v) { c.insert(std::move(v)); });
    return out;
}

template <class M>
Term encode_map(const M& map) {
    using K = typename M::key_type;
    using V = typename M::mapped_type;
    std::vector<std::pair<Term, Term>> entries;
    entries.reserve(map.size());
    std::size_t i = 0;
    for (const auto& [k, v] : map) {
        Term key = within(key_index_segment(i), [&] { return encode_value<K>(k); });
        Term value = within(value_segment(key), [&] { return encode_value<V>(v); });
        entries.emplace_back(std::move(key), std::move(value));
        ++i;
    }
    return Term::map(std::move(entries));
}

template <class M>
M decode_map(const Term& term) {
    using K = typename M::key_type;
    using V = typename M::mapped_type;
    if (!term.is_map()) throw_bad_shape("map", term);
    M out;
    if constexpr (requires(M& m) { m.reserve(std::size_t{}); }) out.reserve(term.size());
    for (const MapEntry& e : term.entries()) {
        K key = within(key_segment(e.key), [&] { return decode_value<K>(e.key); });
        V value = within(value_segment(e.key), [&] { return decode_value<V>(e.value); });
        if (!out.try_emplace(std::move(key), std::move(value)).second)
            throw CodecError(key_segment(e.key).to_string(),
                             "duplicate key: another key of this map decodes to the same value");
    }
    return out;
}

template <class Tuple, std::size_t... I>
Term encode_tuple(const Tuple& value, std::index_sequence<I...>) {
    return Term::tuple({within(tuple_segment(I), [&] {
        return encode_value<std::remove_cvref_t<std::tuple_element_t<I, Tuple>>>(std::get<I>(value));
    })...});
}

inline void check_tuple(const Term& term, std::size_t arity) {
    if (!term.is_tuple(arity)) throw_bad_shape("tuple of arity " + std::to_string(arity), term);
}

template <class Tuple, std::size_t... I>
Tuple decode_tuple(const Term& term, std::index_sequence<I...>) {
    check_tuple(term, sizeof...(I));
    // Braced initialization evaluates left to right.
    return Tuple{within(tuple_segment(I), [&] {
        return decode_value<std::tuple_element_t<I, Tuple>>(term[I]);
    })...};
}

}  // namespace detail

// ----- fields -----------------------------------------------------------------------

// Calls f(std::string_view name, Field& field) for each field listed in T's
// OTPP_TERM_FIELDS, in the listed order (Field is const for a const obj).
template <class T, class F>
    requires detail::HasTermFields<std::remove_cv_t<T>>
void for_each_field(T& obj, F&& f) {
    static_assert(detail::names_unique(detail::FieldAccess::names<std::remove_cv_t<T>>()),
                  "OTPP_TERM_FIELDS lists a field twice");
    detail::FieldAccess::visit(obj, f);
}

namespace detail {

// The field names of T as atoms, interned once per type: the atom table is
// shared by every thread, and a hot upgrade converts 100,000 states at once.
template <class T>
const auto& field_atoms() {
    static const auto atoms = [] {
        constexpr auto names = FieldAccess::names<T>();
        std::array<Atom, names.size()> out{};
        for (std::size_t i = 0; i < names.size(); ++i) out[i] = Atom(names[i]);
        return out;
    }();
    return atoms;
}

template <class T>
Term encode_fields(const T& obj) {
    const auto& keys = field_atoms<std::remove_cv_t<T>>();
    std::vector<std::pair<Term, Term>> entries;
    entries.reserve(keys.size());
    std::size_t i = 0;
    for_each_field(obj, [&](std::string_view name, const auto& field) {
        using F = std::remove_cvref_t<decltype(field)>;
        entries.emplace_back(Term(keys[i++]), within(field_segment(name), [&] { return encode_value<F>(field); }));
    });
    return Term::map(std::move(entries));
}

template <class T>
T decode_fields(const Term& term) {
    if (!term.is_map()) throw_bad_shape("map", term);
    const auto& keys = field_atoms<T>();
    T out{};
    std::size_t i = 0;
    for_each_field(out, [&](std::string_view name, auto& field) {
        using F = std::remove_cvref_t<decltype(field)>;
        const Term* value = term.find(Term(keys[i++]));
        if (value == nullptr) return;  // missing: keep the default
        within(field_segment(name), [&] { field = decode_value<F>(*value); });
    });
    return out;
}

}  // namespace detail

// ----- built-in codecs -------------------------------------------------------------------

// Structs with OTPP_TERM_FIELDS and/or to_term()/from_term() members.
template <class T>
    requires(detail::HasMemberToTerm<T> || detail::HasMemberFromTerm<T> || detail::HasTermFields<T>)
struct TermCodec<T> {
    static Term encode(const T& value)
        requires(detail::HasMemberToTerm<T> || detail::HasTermFields<T>)
    {
        if constexpr (detail::HasMemberToTerm<T>) return Term(value.to_term());
        else return detail::encode_fields(value);
    }
    static T decode(const Term& term)
        requires(detail::HasMemberFromTerm<T> || detail::HasTermFields<T>)
    {
        if constexpr (detail::HasMemberFromTerm<T>) return T(T::from_term(term));
        else return detail::decode_fields<T>(term);
    }
};

template <detail::CodecInteger T>
struct TermCodec<T> {
    static Term encode(T value) {
        if constexpr (std::is_signed_v<T>) return Term(static_cast<long long>(value));
        else return Term(static_cast<unsigned long long>(value));  // BadArg above INT64_MAX
    }
    static T decode(const Term& term) { return term.get<T>(); }
};

template <>
struct TermCodec<bool> {
    static Term encode(bool value) noexcept { return Term(value); }
    static bool decode(const Term& term) { return term.get<bool>(); }
};

template <detail::CodecFloat T>
struct TermCodec<T> {
    static Term encode(T value) { return Term(static_cast<double>(value)); }  // BadArg for NaN, inf
    static T decode(const Term& term) {
        if (const auto d = term.try_get<double>()) {
            if constexpr (std::is_same_v<T, float>) {
                if (*d > static_cast<double>(std::numeric_limits<float>::max()) ||
                    *d < -static_cast<double>(std::numeric_limits<float>::max()))
                    detail::throw_bad_shape("float in single-precision range", term);
            }
            return static_cast<T>(*d);
        }
        if (const auto i = term.try_get<std::int64_t>()) {
            const T f = static_cast<T>(*i);
            // f >= -2^63 always holds; f == 2^63 would overflow the cast back.
            if (f < static_cast<T>(9223372036854775808.0) && static_cast<std::int64_t>(f) == *i) return f;
            detail::throw_bad_shape(std::is_same_v<T, float> ? "float (or an integer exactly representable as float)"
                                                             : "float (or an integer exactly representable as double)",
                                    term);
        }
        detail::throw_bad_shape("float", term);
    }
};

template <>
struct TermCodec<std::string> {
    static Term encode(const std::string& value) { return Term::binary(std::string_view(value)); }
    static std::string decode(const Term& term) {
        if (!term.is_binary()) detail::throw_bad_kind("binary", term);
        return std::string(term.bytes());
    }
};

// Encode only: decoding into a view would point into the term.
template <>
struct TermCodec<std::string_view> {
    static Term encode(std::string_view value) { return Term::binary(value); }
};
template <>
struct TermCodec<const char*> {
    static Term encode(const char* value) {
        if (value == nullptr) throw BadArg("cannot encode a null const char*");
        return Term::binary(std::string_view(value));
    }
};
template <>
struct TermCodec<char*> {
    static Term encode(const char* value) { return TermCodec<const char*>::encode(value); }
};
// Up to the first NUL (a string literal's terminator is not part of it).
template <std::size_t N>
struct TermCodec<char[N]> {
    static Term encode(const char (&value)[N]) {
        const void* nul = std::memchr(value, 0, N);
        const std::size_t size = nul ? static_cast<std::size_t>(static_cast<const char*>(nul) - value) : N;
        return Term::binary(std::string_view(value, size));
    }
};

template <>
struct TermCodec<Atom> {
    static Term encode(Atom value) noexcept { return Term(value); }
    static Atom decode(const Term& term) { return term.get<Atom>(); }
};
template <>
struct TermCodec<Pid> {
    static Term encode(const Pid& value) noexcept { return Term(value); }
    static Pid decode(const Term& term) { return term.get<Pid>(); }
};
template <>
struct TermCodec<Ref> {
    static Term encode(const Ref& value) noexcept { return Term(value); }
    static Ref decode(const Term& term) { return term.get<Ref>(); }
};
template <>
struct TermCodec<Term> {
    static Term encode(const Term& value) noexcept { return value; }
    static Term decode(const Term& term) noexcept { return term; }
};

template <class T>
struct TermCodec<std::optional<T>> {
    static Term encode(const std::optional<T>& value)
        requires TermEncodable<T>
    {
        if (!value) return Term(atoms::undefined);
        return detail::encode_value<T>(*value);
    }
    static std::optional<T> decode(const Term& term)
        requires TermDecodable<T>
    {
        if (term.is_atom(atoms::undefined)) return std::nullopt;
        return std::optional<T>(detail::decode_value<T>(term));
    }
};

namespace detail {
// One codec for every sequence container: a list term, element by element.
template <class Seq>
struct SequenceCodec {
    using T = typename Seq::value_type;
    static Term encode(const Seq& value)
        requires TermEncodable<T>
    {
        return encode_list(value);
    }
    static Seq decode(const Term& term)
        requires TermDecodable<T>
    {
        return decode_sequence<Seq>(term);
    }
};
}  // namespace detail

template <class T, class A>
struct TermCodec<std::vector<T, A>> : detail::SequenceCodec<std::vector<T, A>> {};
template <class T, class A>
struct TermCodec<std::deque<T, A>> : detail::SequenceCodec<std::deque<T, A>> {};
template <class T, class A>
struct TermCodec<std::list<T, A>> : detail::SequenceCodec<std::list<T, A>> {};

template <class T, class C, class A>
struct TermCodec<std::set<T, C, A>> {
    static Term encode(const std::set<T, C, A>& value)
        requires TermEncodable<T>
    {
        return detail::encode_sorted_list(value);
    }
    static std::set<T, C, A> decode(const Term& term)
        requires TermDecodable<T>
    {
        return detail::decode_set<std::set<T, C, A>>(term);
    }
};

template <class T, class H, class E, class A>
struct TermCodec<std::unordered_set<T, H, E, A>> {
    static Term encode(const std::unordered_set<T, H, E, A>& value)
        requires TermEncodable<T>
    {
        return detail::encode_sorted_list(value);
    }
    static std::unordered_set<T, H, E, A> decode(const Term& term)
        requires TermDecodable<T>
    {
        return detail::decode_set<std::unordered_set<T, H, E, A>>(term);
    }
};

template <class T, std::size_t N>
struct TermCodec<std::array<T, N>> {
    static Term encode(const std::array<T, N>& value)
        requires TermEncodable<T>
    {
        return detail::encode_tuple(value, std::make_index_sequence<N>{});
    }
    static std::array<T, N> decode(const Term& term)
        requires TermDecodable<T>
    {
        return detail::decode_tuple<std::array<T, N>>(term, std::make_index_sequence<N>{});
    }
};

template <class A, class B>
struct TermCodec<std::pair<A, B>> {
    static Term encode(const std::pair<A, B>& value)
        requires(TermEncodable<A> && TermEncodable<B>)
    {
        return detail::encode_tuple(value, std::make_index_sequence<2>{});
    }
    static std::pair<A, B> decode(const Term& term)
        requires(TermDecodable<A> && TermDecodable<B>)
    {
        return detail::decode_tuple<std::pair<A, B>>(term, std::make_index_sequence<2>{});
    }
};

template <class... Ts>
struct TermCodec<std::tuple<Ts...>> {
    static Term encode(const std::tuple<Ts...>& value)
        requires(TermEncodable<Ts> && ...)
    {
        return detail::encode_tuple(value, std::index_sequence_for<Ts...>{});
    }
    static std::tuple<Ts...> decode(const Term& term)
        requires(TermDecodable<Ts> && ...)
    {
        return detail::decode_tuple<std::tuple<Ts...>>(term, std::index_sequence_for<Ts...>{});
    }
};

template <class K, class V, class C, class A>
struct TermCodec<std::map<K, V, C, A>> {
    static Term encode(const std::map<K, V, C, A>& value)
        requires(TermEncodable<K> && TermEncodable<V>)
    {
        return detail::encode_map(value);
    }
    static std::map<K, V, C, A> decode(const Term& term)
        requires(TermDecodable<K> && TermDecodable<V>)
    {
        return detail::decode_map<std::map<K, V, C, A>>(term);
    }
};

template <class K, class V, class H, class E, class A>
struct TermCodec<std::unordered_map<K, V, H, E, A>> {
    static Term encode(const std::unordered_map<K, V, H, E, A>& value)
        requires(TermEncodable<K> && TermEncodable<V>)
    {
        return detail::encode_map(value);
    }
    static std::unordered_map<K, V, H, E, A> decode(const Term& term)
        requires(TermDecodable<K> && TermDecodable<V>)
    {
        return detail::decode_map<std::unordered_map<K, V, H, E, A>>(term);
    }
};

// The count in the duration's own unit (see the header comment).
template <class Rep, class Period>
struct TermCodec<std::chrono::duration<Rep, Period>> {
    static Term encode(const std::chrono::duration<Rep, Period>& value)
        requires TermEncodable<Rep>
    {
        return detail::encode_value<Rep>(value.count());
    }
    static std::chrono::duration<Rep, Period> decode(const Term& term)
        requires TermDecodable<Rep>
    {
        return std::chrono::duration<Rep, Period>(detail::decode_value<Rep>(term));
    }
};

template <class E>
    requires std::is_enum_v<E>
struct TermCodec<E> {
    using Underlying = std::underlying_type_t<E>;

    static Term encode(E value) {
        if constexpr (detail::HasEnumNames<E>) {
            for (const auto& entry : otpp_enum_names(value))
                if (static_cast<E>(entry.first) == value) return Term(Atom(std::string_view(entry.second)));
            throw BadArg("enum value " + TermCodec<Underlying>::encode(static_cast<Underlying>(value)).to_string() +
                         " has no name in otpp_enum_names");
        } else {
            return TermCodec<Underlying>::encode(static_cast<Underlying>(value));
        }
    }
    static E decode(const Term& term) {
        if constexpr (detail::HasEnumNames<E>) {
            if (term.is_atom()) {
                const std::string_view got = term.get<Atom>().name();
                for (const auto& entry : otpp_enum_names(E{}))
                    if (std::string_view(entry.second) == got) return static_cast<E>(entry.first);
            }
            std::string expected = "one of";
            const char* separator = " ";
            for (const auto& entry : otpp_enum_names(E{})) {
                expected += separator;
                expected += std::string_view(entry.second);
                separator = ", ";
            }
            detail::throw_bad_shape(std::move(expected), term);
        } else {
            return static_cast<E>(TermCodec<Underlying>::decode(term));
        }
    }
};

// ----- entry points -----------------------------------------------------------------------

template <class T>
Term to_term(const T& value) {
    static_assert(TermEncodable<T>,
                  "no TermCodec for T: add OTPP_TERM_FIELDS(...) to the struct, give it "
                  "`Term to_term() const`, or specialize otpp::TermCodec<T>");
    if constexpr (TermEncodable<T>) {
        try {
            return Term(TermCodec<T>::encode(value));
        } catch (const detail::CodecError& e) {
            detail::throw_top_level("to_term", detail::type_name<T>(), e);
        } catch (const BadArg& e) {
            detail::throw_top_level("to_term", detail::type_name<T>(), e);
        }
    } else {
        return Term();
    }
}

template <class T>
T from_term(const Term& term) {
    static_assert(!std::is_reference_v<T> && !std::is_const_v<T>, "from_term<T>: T must be a plain object type");
    static_assert(!std::is_same_v<T, std::string_view>,
                  "from_term<std::string_view> would point into the term: decode to std::string");
    static_assert(TermDecodable<T>,
                  "no TermCodec decoder for T: add OTPP_TERM_FIELDS(...) to the struct, give it "
                  "`static T from_term(const Term&)`, or specialize otpp::TermCodec<T>");
    if constexpr (TermDecodable<T>) {
        try {
            return T(TermCodec<T>::decode(term));
        } catch (const detail::CodecError& e) {
            detail::throw_top_level("from_term", detail::type_name<T>(), e);
        } catch (const BadArg& e) {
            detail::throw_top_level("from_term", detail::type_name<T>(), e);
        }
    } else {
        return *static_cast<T*>(nullptr);  // unreachable: the static_assert failed
    }
}

}  // namespace otpp

// ----- OTPP_TERM_FIELDS -------------------------------------------------------------------

// OTPP_PP_FOR_EACH(m, a, b, c) -> m(a) m(b) m(c), for up to 256 arguments
// (the usual __VA_OPT__ deferred-recursion idiom: 4^4 rescans).
#define OTPP_PP_PARENS ()
#define OTPP_PP_EXPAND(...) OTPP_PP_EXPAND4(OTPP_PP_EXPAND4(OTPP_PP_EXPAND4(OTPP_PP_EXPAND4(__VA_ARGS__))))
#define OTPP_PP_EXPAND4(...) OTPP_PP_EXPAND3(OTPP_PP_EXPAND3(OTPP_PP_EXPAND3(OTPP_PP_EXPAND3(__VA_ARGS__))))
#define OTPP_PP_EXPAND3(...) OTPP_PP_EXPAND2(OTPP_PP_EXPAND2(OTPP_PP_EXPAND2(OTPP_PP_EXPAND2(__VA_ARGS__))))
#define OTPP_PP_EXPAND2(...) OTPP_PP_EXPAND1(OTPP_PP_EXPAND1(OTPP_PP_EXPAND1(OTPP_PP_EXPAND1(__VA_ARGS__))))
#define OTPP_PP_EXPAND1(...) __VA_ARGS__
#define OTPP_PP_FOR_EACH(macro, ...) __VA_OPT__(OTPP_PP_EXPAND(OTPP_PP_FOR_EACH_STEP(macro, __VA_ARGS__)))
#define OTPP_PP_FOR_EACH_STEP(macro, first, ...) \
    macro(first) __VA_OPT__(OTPP_PP_FOR_EACH_AGAIN OTPP_PP_PARENS(macro, __VA_ARGS__))
#define OTPP_PP_FOR_EACH_AGAIN() OTPP_PP_FOR_EACH_STEP

#define OTPP_TERM_FIELD_NAME_(field) ::std::string_view{#field},
#define OTPP_TERM_FIELD_COUNT_(field) +1
#define OTPP_TERM_FIELD_VISIT_(field) otpp_visit(::std::string_view{#field}, this->field);

// Inside a struct/class: lists the fields that convert to/from a term map
// (see the header comment for the rules). Generates, in whatever access
// section it is placed (otpp reaches them through a friend):
//   template <class V> void otpp_fields(V&& v) [const]   calls v("name", this->name) per field
//   static constexpr std::array<std::string_view, N> otpp_field_names()
// Member functions only (no data), so an aggregate stays an aggregate. No
// trailing ';' needed (one is harmless, bar -Wextra-semi).
#define OTPP_TERM_FIELDS(...)                                                                  \
    friend struct ::otpp::detail::FieldAccess;                                                 \
    template <class OtppVisitor>                                                               \
    void otpp_fields([[maybe_unused]] OtppVisitor&& otpp_visit) {                              \
        OTPP_PP_FOR_EACH(OTPP_TERM_FIELD_VISIT_, __VA_ARGS__)                                  \
    }                                                                                          \
    template <class OtppVisitor>                                                               \
    void otpp_fields([[maybe_unused]] OtppVisitor&& otpp_visit) const {                        \
        OTPP_PP_FOR_EACH(OTPP_TERM_FIELD_VISIT_, __VA_ARGS__)                                  \
    }                                                                                          \
    static constexpr ::std::array<::std::string_view, 0 OTPP_PP_FOR_EACH(OTPP_TERM_FIELD_COUNT_, __VA_ARGS__)> \
    otpp_field_names() noexcept {                                                              \
        return {{OTPP_PP_FOR_EACH(OTPP_TERM_FIELD_NAME_, __VA_ARGS__)}};                       \
    }
