// otpp/term_codec.hpp: C++ values <-> Terms (to_term / from_term).
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
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

#include "otpp/term_codec.hpp"

using namespace otpp;

namespace codec_test {

Term T(std::string_view text) { return Term::parse(text); }

template <class V>
void check_round_trip(const V& value, std::string_view expected_text) {
    const Term t = to_term(value);
    CHECK(t == Term::parse(expected_text));
    CHECK(from_term<V>(t) == value);
}

// The BadArg message of from_term<V>(t).
template <class V>
std::string decode_error(const Term& t) {
    try {
        (void)from_term<V>(t);
    } catch (const BadArg& e) {
        return e.what();
    }
    return "(no error)";
}

template <class V>
std::string encode_error(const V& v) {
    try {
        (void)to_term(v);
    } catch (const BadArg& e) {
        return e.what();
    }
    return "(no error)";
}

// ----- types under test --------------------------------------------------------------

struct Small {
    std::int64_t count = 0;
    std::string name;
    OTPP_TERM_FIELDS(count, name)
    friend bool operator==(const Small&, const Small&) = default;
};

struct Limits {
    std::int64_t max = 10;
    std::int64_t min = 0;
    OTPP_TERM_FIELDS(max, min)
    friend bool operator==(const Limits&, const Limits&) = default;
};

struct Config {
    std::string host = "localhost";
    Limits limits;
    std::optional<std::int32_t> port;
    OTPP_TERM_FIELDS(host, limits, port)
    friend bool operator==(const Config&, const Config&) = default;
};

struct Item {
    std::string name;
    double price = 0;
    std::vector<std::string> tags;
    OTPP_TERM_FIELDS(name, price, tags)
    friend bool operator==(const Item&, const Item&) = default;
};

struct Catalog {
    std::int64_t version = 1;
    std::map<std::string, std::vector<Item>> groups;
    std::unordered_map<std::int64_t, std::pair<Item, bool>> by_id;
    std::set<Atom> flags;
    std::optional<Item> featured;
    OTPP_TERM_FIELDS(version, groups, by_id, flags, featured)
    friend bool operator==(const Catalog&, const Catalog&) = default;
};

enum class Color : std::uint8_t { red = 1, green = 2, blue = 7 };

enum class Mode { fast, safe };
constexpr auto otpp_enum_names(Mode) {
    return std::array{std::pair{Mode::fast, "fast"}, std::pair{Mode::safe, "safe"}};
}

struct Holder {
    enum Level { low, high, unnamed };
    friend constexpr auto otpp_enum_names(Level) {
        return std::array{std::pair{low, std::string_view("low")}, std::pair{high, std::string_view("high")}};
    }
    Level level = low;
    OTPP_TERM_FIELDS(level)
};

// A user specialization of TermCodec (below) for a type without fields.
struct Point {
    int x = 0;
    int y = 0;
    friend bool operator==(const Point&, const Point&) = default;
};

// Member functions instead of a codec; they take precedence over fields.
struct Celsius {
    double degrees = 0;
    OTPP_TERM_FIELDS(degrees)  // ignored: the members below win
    Term to_term() const { return Term::tuple({Atom("celsius"), degrees}); }
    static Celsius from_term(const Term& t) {
        if (!t.is_tuple(2) || !t[0].is_atom(Atom("celsius"))) throw BadArg("expected {celsius, Degrees}");
        return Celsius{t[1].get<double>()};
    }
};

// Encode-only member.
struct Opaque {
    int secret = 3;
    Term to_term() const { return Atom("opaque"); }
};

// Fields in a private section, macro in a private section.
class Account {
public:
    Account() = default;
    Account(std::string owner, std::int64_t balance) : owner_(std::move(owner)), balance_(balance) {}
    const std::string& owner() const { return owner_; }
    std::int64_t balance() const { return balance_; }

private:
    std::string owner_;
    std::int64_t balance_ = 0;
    OTPP_TERM_FIELDS(owner_, balance_)
};

struct Empty {
    OTPP_TERM_FIELDS()
};

struct Wide {  // 40 fields: more than the 32 the macro must support
    int f00 = 0, f01 = 1, f02 = 2, f03 = 3, f04 = 4, f05 = 5, f06 = 6, f07 = 7, f08 = 8, f09 = 9;
    int f10 = 10, f11 = 11, f12 = 12, f13 = 13, f14 = 14, f15 = 15, f16 = 16, f17 = 17, f18 = 18, f19 = 19;
    int f20 = 20, f21 = 21, f22 = 22, f23 = 23, f24 = 24, f25 = 25, f26 = 26, f27 = 27, f28 = 28, f29 = 29;
    int f30 = 30, f31 = 31, f32 = 32, f33 = 33, f34 = 34, f35 = 35, f36 = 36, f37 = 37, f38 = 38, f39 = 39;
    OTPP_TERM_FIELDS(f00, f01, f02, f03, f04, f05, f06, f07, f08, f09, f10, f11, f12, f13, f14, f15, f16, f17, f18,
                     f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29, f30, f31, f32, f33, f34, f35, f36, f37,
                     f38, f39);
    friend bool operator==(const Wide&, const Wide&) = default;
};

// Recursive through a container.
struct Node {
    std::int64_t value = 0;
    std::vector<Node> children;
    OTPP_TERM_FIELDS(value, children)
    friend bool operator==(const Node&, const Node&) = default;
};

// A codec that decodes its parts with TermCodec<U>::decode, so paths compose.
struct Pair2 {
    Small a;
    Small b;
};

struct NoCodec {
    int x = 0;
};

struct WithBadField {
    NoCodec inner;
};

// ----- the upgrade scenario -------------------------------------------------------

namespace v1 {
struct State {
    std::int64_t count = 0;
    std::int32_t rate = 0;  // becomes a double in v2
    std::string owner;
    std::vector<std::string> legacy;  // dropped in v2
    OTPP_TERM_FIELDS(count, rate, owner, legacy)
};
}  // namespace v1

namespace v2 {
struct State {
    std::int64_t count = 0;
    double rate = 0;
    std::string owner;
    std::chrono::milliseconds timeout{5000};  // new, with a default
    std::optional<Atom> region;               // new, optional
    OTPP_TERM_FIELDS(count, rate, owner, timeout, region)
};
}  // namespace v2

}  // namespace codec_test

template <>
struct otpp::TermCodec<codec_test::Point> {
    static Term encode(const codec_test::Point& p) { return Term::tuple({Atom("point"), p.x, p.y}); }
    static codec_test::Point decode(const Term& t) {
        if (!t.is_tuple(3) || !t[0].is_atom(Atom("point"))) throw BadArg("expected {point, X, Y}");
        return {t[1].get<int>(), t[2].get<int>()};
    }
};

template <>
struct otpp::TermCodec<codec_test::Pair2> {
    static Term encode(const codec_test::Pair2& p) { return Term::tuple({to_term(p.a), to_term(p.b)}); }
    static codec_test::Pair2 decode(const Term& t) {
        if (!t.is_tuple(2)) throw BadArg("expected {A, B}");
        return {TermCodec<codec_test::Small>::decode(t[0]), TermCodec<codec_test::Small>::decode(t[1])};
    }
};

using namespace codec_test;

// ----- concepts -------------------------------------------------------------------------

TEST_CASE("concepts tell what can be converted", "[codec]") {
    STATIC_REQUIRE(TermCodable<int>);
    STATIC_REQUIRE(TermCodable<std::uint64_t>);
    STATIC_REQUIRE(TermCodable<std::string>);
    STATIC_REQUIRE(TermCodable<Small>);
    STATIC_REQUIRE(TermCodable<Catalog>);
    STATIC_REQUIRE(TermCodable<Node>);
    STATIC_REQUIRE(TermCodable<Point>);
    STATIC_REQUIRE(TermCodable<Celsius>);
    STATIC_REQUIRE(TermCodable<std::map<Term, Term>>);
    STATIC_REQUIRE(TermCodable<std::vector<std::optional<std::tuple<int, Atom, Point>>>>);
    STATIC_REQUIRE(TermCodable<Color>);
    STATIC_REQUIRE(TermCodable<std::chrono::seconds>);

    STATIC_REQUIRE(TermEncodable<std::string_view>);
    STATIC_REQUIRE_FALSE(TermDecodable<std::string_view>);
    STATIC_REQUIRE(TermEncodable<const char*>);
    STATIC_REQUIRE(TermEncodable<char[6]>);
    STATIC_REQUIRE_FALSE(TermDecodable<const char*>);
    STATIC_REQUIRE(TermEncodable<std::vector<std::string_view>>);
    STATIC_REQUIRE_FALSE(TermDecodable<std::vector<std::string_view>>);
    STATIC_REQUIRE(TermEncodable<Opaque>);
    STATIC_REQUIRE_FALSE(TermDecodable<Opaque>);

    STATIC_REQUIRE_FALSE(TermEncodable<NoCodec>);
    STATIC_REQUIRE_FALSE(TermDecodable<NoCodec>);
    STATIC_REQUIRE_FALSE(TermEncodable<std::vector<NoCodec>>);
    STATIC_REQUIRE_FALSE(TermEncodable<std::map<std::string, NoCodec>>);
    STATIC_REQUIRE_FALSE(TermEncodable<std::optional<NoCodec>>);
    STATIC_REQUIRE_FALSE(TermEncodable<std::tuple<int, NoCodec>>);
    STATIC_REQUIRE_FALSE(TermEncodable<void*>);
    STATIC_REQUIRE_FALSE(TermEncodable<long double>);
    STATIC_REQUIRE_FALSE(TermEncodable<WithBadField>);
}

TEST_CASE("OTPP_TERM_FIELDS keeps a struct an aggregate", "[codec]") {
    STATIC_REQUIRE(std::is_aggregate_v<Small>);
    STATIC_REQUIRE(std::is_aggregate_v<Catalog>);
    STATIC_REQUIRE(std::is_aggregate_v<Wide>);
    STATIC_REQUIRE(sizeof(Small) == sizeof(std::int64_t) + sizeof(std::string));
    STATIC_REQUIRE(std::is_trivially_copyable_v<Limits>);
    const Small s{7, "seven"};
    CHECK(s.count == 7);
    const Limits l{.max = 3};
    CHECK(l.min == 0);
}

// ----- built-ins ------------------------------------------------------------------------

TEST_CASE("integers round-trip for every integer type", "[codec]") {
    check_round_trip<std::int8_t>(-128, "-128");
    check_round_trip<std::uint8_t>(255, "255");
    check_round_trip<std::int16_t>(-32768, "-32768");
    check_round_trip<std::uint16_t>(65535, "65535");
    check_round_trip<std::int32_t>(std::numeric_limits<std::int32_t>::min(), "-2147483648");
    check_round_trip<std::uint32_t>(4294967295u, "4294967295");
    check_round_trip<std::int64_t>(std::numeric_limits<std::int64_t>::min(), "-9223372036854775808");
    check_round_trip<std::int64_t>(std::numeric_limits<std::int64_t>::max(), "9223372036854775807");
    check_round_trip<std::uint64_t>(9223372036854775807ull, "9223372036854775807");
    check_round_trip<short>(-5, "-5");
    check_round_trip<unsigned short>(5, "5");
    check_round_trip<long>(-6, "-6");
    check_round_trip<unsigned long>(6, "6");
    check_round_trip<long long>(-7, "-7");
    check_round_trip<unsigned long long>(7, "7");
    check_round_trip<char>('A', "65");
    check_round_trip<signed char>(-1, "-1");
    check_round_trip<unsigned char>(200, "200");
    check_round_trip<char16_t>(u'\u00e9', "233");
    check_round_trip<char32_t>(U'\U0001F600', "128512");
    check_round_trip<wchar_t>(L'x', "120");
}

TEST_CASE("integer decoding is range-checked", "[codec]") {
    CHECK(decode_error<std::int16_t>(Term(40000)) ==
          "from_term<short int>: expected integer in range -32768..32767, got 40000");
    CHECK(decode_error<std::uint8_t>(Term(-1)) ==
          "from_term<unsigned char>: expected integer in range 0..255, got -1");
    CHECK(decode_error<std::uint32_t>(Term(std::int64_t{1} << 32)).find("expected integer in range 0..4294967295") !=
          std::string::npos);
    CHECK_THROWS_AS(from_term<std::int32_t>(Term(std::int64_t{1} << 31)), BadArg);
    CHECK(from_term<std::int32_t>(Term((std::int64_t{1} << 31) - 1)) == 2147483647);
    CHECK(decode_error<int>(Term(1.0)) == "from_term<int>: expected integer, got 1.0");
    CHECK(decode_error<int>(T("<<\"5\">>")) == "from_term<int>: expected integer, got <<\"5\">>");
    // Encoding: above INT64_MAX has no term.
    CHECK(encode_error(std::uint64_t{9223372036854775808ull}) ==
          "to_term<long unsigned int>: integer 9223372036854775808 out of 64-bit signed range");
    CHECK(encode_error(std::vector<std::uint64_t>{1, 2, std::numeric_limits<std::uint64_t>::max()}) ==
          "to_term<std::vector<long unsigned int>>: at [2]: integer 18446744073709551615 out of 64-bit signed "
          "range");
}

TEST_CASE("bool is the atoms true and false", "[codec]") {
    check_round_trip(true, "true");
    check_round_trip(false, "false");
    CHECK(decode_error<bool>(Term(1)) == "from_term<bool>: expected boolean, got 1");
    CHECK(decode_error<bool>(Term(Atom("yes"))) == "from_term<bool>: expected boolean, got yes");
}

TEST_CASE("floats round-trip and accept exactly representable integers", "[codec]") {
    check_round_trip(1.5, "1.5");
    check_round_trip(-0.0, "-0.0");
    check_round_trip(1e300, "1.0e300");
    check_round_trip(0.25f, "0.25");
    CHECK(to_term(0.1f) == Term(static_cast<double>(0.1f)));
    CHECK(from_term<double>(Term(3)) == 3.0);
    CHECK(from_term<double>(Term(-(std::int64_t{1} << 53))) == -9007199254740992.0);
    CHECK(from_term<double>(Term(std::numeric_limits<std::int64_t>::min())) == -9223372036854775808.0);
    CHECK(from_term<float>(Term(16777216)) == 16777216.0f);
    CHECK(decode_error<double>(Term((std::int64_t{1} << 53) + 1)) ==
          "from_term<double>: expected float (or an integer exactly representable as double), got "
          "9007199254740993");
    CHECK_THROWS_AS(from_term<double>(Term(std::numeric_limits<std::int64_t>::max())), BadArg);
    CHECK(decode_error<float>(Term(16777217)) ==
          "from_term<float>: expected float (or an integer exactly representable as float), got 16777217");
    CHECK(decode_error<float>(Term(1e39)) == "from_term<float>: expected float in single-precision range, got 1.0e39");
    CHECK(decode_error<double>(Term(Atom("pi"))) == "from_term<double>: expected float, got pi");
    CHECK(encode_error(std::numeric_limits<double>::quiet_NaN()) == "to_term<double>: float must be finite, got NaN");
    CHECK(encode_error(-std::numeric_limits<float>::infinity()) == "to_term<float>: float must be finite, got -inf");
}

TEST_CASE("strings are binaries", "[codec]") {
    check_round_trip(std::string("héllo"), "<<\"héllo\">>");
    check_round_trip(std::string(), "<<>>");
    check_round_trip(std::string("a\0b", 3), "<<97,0,98>>");
    CHECK(to_term(std::string_view("view")) == Term("view"));
    CHECK(to_term("literal") == Term("literal"));
    const char* p = "pointer";
    CHECK(to_term(p) == Term("pointer"));
    char buf[8] = "ab";
    CHECK(to_term(buf) == Term("ab"));
    CHECK(from_term<std::string>(to_term(std::string_view("sv"))) == "sv");
    CHECK(encode_error(static_cast<const char*>(nullptr)) == "to_term<const char*>: cannot encode a null const char*");
    CHECK(decode_error<std::string>(Term(Atom("abc"))) ==
          "from_term<std::string>: expected binary, got abc");
    CHECK(decode_error<std::string>(T("[97,98]")) == "from_term<std::string>: expected binary, got [97,98]");
}

TEST_CASE("atoms, pids, refs and terms", "[codec]") {
    check_round_trip(Atom("hello"), "hello");
    check_round_trip(Pid{0, 42, 1}, "<0.42.1>");
    check_round_trip(Ref{0, 7}, "#Ref<0.0.7>");
    const Term t = T("{a, [1, 2.5, <<\"x\">>], #{k => v}}");
    CHECK(to_term(t) == t);
    CHECK(from_term<Term>(t) == t);
    CHECK(decode_error<Atom>(Term("abc")) == "from_term<otpp::Atom>: expected atom, got <<\"abc\">>");
    CHECK(decode_error<Pid>(Term(1)) == "from_term<otpp::Pid>: expected pid, got 1");
    CHECK(decode_error<Ref>(Term(1)) == "from_term<otpp::Ref>: expected reference, got 1");
}

TEST_CASE("optional is undefined when empty", "[codec]") {
    check_round_trip(std::optional<int>(), "undefined");
    check_round_trip(std::optional<int>(5), "5");
    check_round_trip(std::optional<std::string>("s"), "<<\"s\">>");
    check_round_trip(std::vector<std::optional<int>>{1, std::nullopt, 3}, "[1, undefined, 3]");
    // The documented ambiguity: an optional<Atom> holding `undefined`.
    CHECK_FALSE(from_term<std::optional<Atom>>(to_term(std::optional<Atom>(atoms::undefined))).has_value());
    // An optional adds no path segment.
    CHECK(decode_error<std::optional<int>>(Term(Atom("none"))) ==
          "from_term<std::optional<int>>: expected integer, got none");
}

TEST_CASE("sequences are lists", "[codec]") {
    check_round_trip(std::vector<int>{1, 2, 3}, "[1,2,3]");
    check_round_trip(std::vector<int>{}, "[]");
    check_round_trip(std::deque<std::string>{"a", "b"}, "[<<\"a\">>, <<\"b\">>]");
    check_round_trip(std::list<double>{1.5, -2.0}, "[1.5, -2.0]");
    check_round_trip(std::vector<bool>{true, false, true}, "[true, false, true]");
    check_round_trip(std::vector<std::vector<int>>{{1}, {}, {2, 3}}, "[[1], [], [2, 3]]");
    CHECK(from_term<std::vector<double>>(T("[1, 2.5]")) == std::vector<double>{1.0, 2.5});
    CHECK(decode_error<std::vector<int>>(T("[1, 2 | 3]")) ==
          "from_term<std::vector<int>>: expected proper list, got [1,2|3]");
    CHECK(decode_error<std::vector<int>>(T("{1, 2}")) == "from_term<std::vector<int>>: expected proper list, got {1,2}");
    CHECK(decode_error<std::list<int>>(T("[1, 2, x]")) ==
          "from_term<std::list<int>>: at [2]: expected integer, got x");
}

TEST_CASE("sets are lists sorted in term order", "[codec]") {
    check_round_trip(std::set<int>{3, 1, 2}, "[1, 2, 3]");
    // Sorted by term order, not by the set's comparator.
    const std::set<int, std::greater<>> desc{1, 2, 3};
    CHECK(to_term(desc) == T("[1, 2, 3]"));
    CHECK(from_term<std::set<int, std::greater<>>>(T("[2, 3, 1]")) == desc);
    // Atoms sort by name in term order.
    CHECK(to_term(std::set<Atom>{Atom("zeta"), Atom("alpha")}) == T("[alpha, zeta]"));
    const std::unordered_set<std::string> us{"b", "c", "a"};
    CHECK(to_term(us) == T("[<<\"a\">>, <<\"b\">>, <<\"c\">>]"));
    CHECK(from_term<std::unordered_set<std::string>>(to_term(us)) == us);
    // Duplicates merge on decode.
    CHECK(from_term<std::set<int>>(T("[1, 1, 2]")) == std::set<int>{1, 2});
}

TEST_CASE("arrays, pairs and tuples are tuples", "[codec]") {
    check_round_trip(std::array<int, 3>{1, 2, 3}, "{1, 2, 3}");
    check_round_trip(std::array<int, 0>{}, "{}");
    check_round_trip(std::pair<Atom, int>{Atom("ok"), 1}, "{ok, 1}");
    check_round_trip(std::tuple<int, std::string, bool>{1, "x", true}, "{1, <<\"x\">>, true}");
    check_round_trip(std::tuple<>{}, "{}");
    CHECK(decode_error<std::pair<int, int>>(T("{1, 2, 3}")) ==
          "from_term<std::pair<int, int>>: expected tuple of arity 2, got {1,2,3}");
    CHECK(decode_error<std::tuple<int, std::string>>(T("{1, 2}")) ==
          "from_term<std::tuple<int, std::string>>: at {1}: expected binary, got 2");
    CHECK(decode_error<std::array<int, 2>>(T("[1, 2]")) ==
          "from_term<std::array<int, 2>>: expected tuple of arity 2, got [1,2]");
}

TEST_CASE("maps are maps with any encodable keys", "[codec]") {
    check_round_trip(std::map<std::string, int>{{"a", 1}, {"b", 2}}, "#{<<\"a\">> => 1, <<\"b\">> => 2}");
    check_round_trip(std::map<int, std::vector<Atom>>{{1, {Atom("x")}}, {2, {}}}, "#{1 => [x], 2 => []}");
    check_round_trip(std::map<std::pair<int, int>, bool>{{{1, 2}, true}}, "#{{1, 2} => true}");
    check_round_trip(std::unordered_map<Atom, double>{{Atom("pi"), 3.14}}, "#{pi => 3.14}");
    check_round_trip(std::map<Term, Term>{{Term(1), T("a")}, {T("<<\"k\">>"), T("[]")}}, "#{1 => a, <<\"k\">> => []}");
    check_round_trip(std::map<std::string, int>{}, "#{}");
    CHECK(decode_error<std::map<std::string, int>>(T("#{<<\"a\">> => 1, <<\"b\">> => x}")) ==
          "from_term<std::map<std::string, int>>: at #{<<\"b\">>}: expected integer, got x");
    CHECK(decode_error<std::map<std::string, int>>(T("#{a => 1}")) ==
          "from_term<std::map<std::string, int>>: at #key{a}: expected binary, got a");
    CHECK(decode_error<std::map<std::string, int>>(T("[]")) ==
          "from_term<std::map<std::string, int>>: expected map, got []");
    // Two term keys that decode to the same C++ key: nothing is silently dropped.
    CHECK(decode_error<std::map<double, int>>(T("#{1 => 10, 1.0 => 20}")) ==
          "from_term<std::map<double, int>>: at #key{1.0}: duplicate key: another key of this map decodes to the "
          "same value");
    CHECK(encode_error(std::map<std::uint64_t, int>{{1, 1}, {std::numeric_limits<std::uint64_t>::max(), 2}}) ==
          "to_term<std::map<long unsigned int, int>>: at #key[1]: integer 18446744073709551615 out of 64-bit "
          "signed range");
    CHECK(encode_error(std::map<std::string, double>{{"bad", std::numeric_limits<double>::infinity()}}) ==
          "to_term<std::map<std::string, double>>: at #{<<\"bad\">>}: float must be finite, got +inf");
}

TEST_CASE("durations are counts in their own unit", "[codec]") {
    using namespace std::chrono_literals;
    check_round_trip(std::chrono::milliseconds(1500), "1500");
    check_round_trip(std::chrono::seconds(2), "2");
    check_round_trip(std::chrono::duration<double>(0.5), "0.5");
    CHECK(from_term<std::chrono::seconds>(to_term(2500ms)) == 2500s);  // no unit conversion: documented
    CHECK_THROWS_AS(from_term<std::chrono::milliseconds>(T("1.5")), BadArg);
}

TEST_CASE("enums: underlying integer, or atoms with otpp_enum_names", "[codec]") {
    check_round_trip(Color::blue, "7");
    CHECK(from_term<Color>(Term(2)) == Color::green);
    CHECK(decode_error<Color>(Term(256)) ==
          "from_term<codec_test::Color>: expected integer in range 0..255, got 256");

    check_round_trip(Mode::safe, "safe");
    check_round_trip(Mode::fast, "fast");
    CHECK(decode_error<Mode>(Term(Atom("slow"))) == "from_term<codec_test::Mode>: expected one of fast, safe, got slow");
    CHECK(decode_error<Mode>(Term(0)) == "from_term<codec_test::Mode>: expected one of fast, safe, got 0");
    CHECK(encode_error(static_cast<Mode>(9)) == "to_term<codec_test::Mode>: enum value 9 has no name in otpp_enum_names");

    // Unscoped member enum with a hidden friend.
    Holder h;
    h.level = Holder::high;
    CHECK(to_term(h) == T("#{level => high}"));
    CHECK(from_term<Holder>(T("#{level => low}")).level == Holder::low);
    h.level = Holder::unnamed;
    CHECK(encode_error(h) == "to_term<codec_test::Holder>: at .level: enum value 2 has no name in otpp_enum_names");
}

// ----- OTPP_TERM_FIELDS -------------------------------------------------------------------

TEST_CASE("a struct prints as the expected Erlang map", "[codec]") {
    const Small s{1, "x"};
    const Term t = to_term(s);
    CHECK(t.to_string() == "#{count => 1,name => <<\"x\">>}");
    CHECK(from_term<Small>(t) == s);
    // Keys are in term order (atoms by name), not declaration order.
    CHECK(to_term(Limits{5, 1}).to_string() == "#{max => 5,min => 1}");
    CHECK(to_term(Empty{}).to_string() == "#{}");
    (void)from_term<Empty>(T("#{x => 1}"));
}

TEST_CASE("nested structs with maps of vectors of structs round-trip", "[codec]") {
    Catalog c;
    c.version = 3;
    c.groups["eu"] = {Item{"bread", 2.5, {"food"}}, Item{"wine", 12.0, {"drink", "red"}}};
    c.groups["us"] = {};
    c.by_id[7] = {Item{"tea", 1.25, {}}, true};
    c.by_id[-1] = {Item{}, false};
    c.flags = {Atom("sale"), Atom("new")};
    c.featured = Item{"cake", 4.0, {"sweet"}};

    const Term t = to_term(c);
    CHECK(t == T("#{version => 3,"
                 "  groups => #{<<\"eu\">> => [#{name => <<\"bread\">>, price => 2.5, tags => [<<\"food\">>]},"
                 "                             #{name => <<\"wine\">>, price => 12.0,"
                 "                               tags => [<<\"drink\">>, <<\"red\">>]}],"
                 "              <<\"us\">> => []},"
                 "  by_id => #{7 => {#{name => <<\"tea\">>, price => 1.25, tags => []}, true},"
                 "             -1 => {#{name => <<>>, price => 0.0, tags => []}, false}},"
                 "  flags => [new, sale],"
                 "  featured => #{name => <<\"cake\">>, price => 4.0, tags => [<<\"sweet\">>]}}"));
    CHECK(from_term<Catalog>(t) == c);

    Catalog empty;
    CHECK(to_term(empty) == T("#{version => 1, groups => #{}, by_id => #{}, flags => [], featured => undefined}"));
    CHECK(from_term<Catalog>(to_term(empty)) == empty);
}

TEST_CASE("missing fields keep their defaults, extra keys are ignored", "[codec]") {
    const Config c = from_term<Config>(T("#{}"));
    CHECK(c.host == "localhost");
    CHECK(c.limits == Limits{10, 0});
    CHECK_FALSE(c.port.has_value());

    const Config d = from_term<Config>(T("#{limits => #{min => 2}, removed_field => {whatever}, <<\"bin\">> => 1,"
                                         "  7 => 8, port => 8080}"));
    CHECK(d.host == "localhost");
    CHECK(d.limits.max == 10);
    CHECK(d.limits.min == 2);
    CHECK(d.port == 8080);
    CHECK(from_term<Config>(T("#{port => undefined}")).port == std::nullopt);
}

TEST_CASE("wrong shapes are BadArg with the exact path", "[codec]") {
    CHECK(decode_error<Config>(T("#{limits => #{max => <<\"ten\">>}}")) ==
          "from_term<codec_test::Config>: at .limits.max: expected integer, got <<\"ten\">>");
    CHECK(decode_error<Config>(T("#{limits => [1]}")) ==
          "from_term<codec_test::Config>: at .limits: expected map, got [1]");
    CHECK(decode_error<Config>(T("#{port => 99999999999}")) ==
          "from_term<codec_test::Config>: at .port: expected integer in range -2147483648..2147483647, got "
          "99999999999");
    CHECK(decode_error<Config>(T("{config}")) == "from_term<codec_test::Config>: expected map, got {config}");
    CHECK(decode_error<Catalog>(T("#{groups => #{<<\"eu\">> => [#{name => <<\"a\">>}, #{name => 42}]}}")) ==
          "from_term<codec_test::Catalog>: at .groups#{<<\"eu\">>}[1].name: expected binary, got 42");
    CHECK(decode_error<Catalog>(T("#{by_id => #{7 => {#{tags => [<<\"ok\">>, x]}, true}}}")) ==
          "from_term<codec_test::Catalog>: at .by_id#{7}{0}.tags[1]: expected binary, got x");
    CHECK(decode_error<Catalog>(T("#{by_id => #{seven => {#{}, true}}}")) ==
          "from_term<codec_test::Catalog>: at .by_id#key{seven}: expected integer, got seven");
    CHECK(decode_error<Catalog>(T("#{featured => #{price => fourty}}")) ==
          "from_term<codec_test::Catalog>: at .featured.price: expected float, got fourty");
    CHECK(decode_error<std::vector<Small>>(T("[#{}, #{count => 1.5}]")) ==
          "from_term<std::vector<codec_test::Small>>: at [1].count: expected integer, got 1.5");
    // A long map key is cut short in the path.
    const std::string long_key(100, 'k');
    const std::string message =
        decode_error<std::map<std::string, int>>(Term::map({{Term(long_key), Term(Atom("x"))}}));
    CHECK(message.find("at #{<<\"kkkk") != std::string::npos);
    CHECK(message.find("...}: expected integer, got x") != std::string::npos);
    CHECK(message.size() < 200);
    // Every such error is a BadArg (and an otpp::Error).
    CHECK_THROWS_AS(from_term<Config>(T("#{host => 1}")), Error);
}

TEST_CASE("user codecs and member functions", "[codec]") {
    check_round_trip(Point{1, -2}, "{point, 1, -2}");
    check_round_trip(std::vector<Point>{{1, 2}}, "[{point, 1, 2}]");
    CHECK(decode_error<std::map<Atom, Point>>(T("#{home => {house, 1, 2}}")) ==
          "from_term<std::map<otpp::Atom, codec_test::Point>>: at #{home}: expected {point, X, Y}");

    const Celsius c{21.5};
    CHECK(to_term(c) == T("{celsius, 21.5}"));  // the member wins over OTPP_TERM_FIELDS
    CHECK(from_term<Celsius>(T("{celsius, 3.0}")).degrees == 3.0);
    CHECK_THROWS_AS(from_term<Celsius>(T("#{degrees => 3.0}")), BadArg);
    CHECK(to_term(std::optional<Opaque>(Opaque{})) == T("opaque"));

    // A codec decoding its parts with TermCodec<U>::decode gets composed paths.
    CHECK(decode_error<std::vector<Pair2>>(T("[{#{count => 1}, #{name => nope}}]")) ==
          "from_term<std::vector<codec_test::Pair2>>: at [0].name: expected binary, got nope");
    CHECK(from_term<Pair2>(to_term(Pair2{{1, "a"}, {2, "b"}})).b.name == "b");
}

TEST_CASE("private fields, zero fields, many fields, recursion", "[codec]") {
    const Account a("ann", 12);
    CHECK(to_term(a) == T("#{owner_ => <<\"ann\">>, balance_ => 12}"));
    const Account b = from_term<Account>(T("#{owner_ => <<\"bob\">>}"));
    CHECK(b.owner() == "bob");
    CHECK(b.balance() == 0);

    Wide w;
    w.f39 = -39;
    const Term t = to_term(w);
    CHECK(t.size() == 40);
    CHECK(*t.find(Term(Atom("f00"))) == Term(0));
    CHECK(*t.find(Term(Atom("f39"))) == Term(-39));
    CHECK(from_term<Wide>(t) == w);

    std::vector<std::string_view> names;
    for_each_field(w, [&](std::string_view name, int&) { names.push_back(name); });
    REQUIRE(names.size() == 40);
    CHECK(names.front() == "f00");
    CHECK(names.back() == "f39");

    Node tree{1, {Node{2, {}}, Node{3, {Node{4, {}}}}}};
    const Term tt = to_term(tree);
    CHECK(tt == T("#{value => 1, children => [#{value => 2, children => []},"
                  "  #{value => 3, children => [#{value => 4, children => []}]}]}"));
    CHECK(from_term<Node>(tt) == tree);
    CHECK(decode_error<Node>(T("#{children => [#{}, #{children => [#{value => x}]}]}")) ==
          "from_term<codec_test::Node>: at .children[1].children[0].value: expected integer, got x");
}

TEST_CASE("for_each_field visits names and references", "[codec]") {
    Small s{1, "a"};
    for_each_field(s, [](std::string_view name, auto& field) {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(field)>, std::int64_t>) {
            CHECK(name == "count");
            field += 10;
        } else {
            CHECK(name == "name");
            field += "b";
        }
    });
    CHECK(s == Small{11, "ab"});
    const Small& cs = s;
    int n = 0;
    for_each_field(cs, [&](std::string_view, const auto&) { ++n; });
    CHECK(n == 2);
}

// ----- the upgrade story -------------------------------------------------------------------

TEST_CASE("upgrade: v1 state -> term -> v2 state through to_term/from_term only", "[codec][upgrade]") {
    v1::State old;
    old.count = 41;
    old.rate = 3;
    old.owner = "ops";
    old.legacy = {"x", "y"};

    const Term carried = to_term(old);
    CHECK(carried.to_string() == "#{count => 41,legacy => [<<\"x\">>,<<\"y\">>],owner => <<\"ops\">>,rate => 3}");

    const v2::State next = from_term<v2::State>(carried);
    CHECK(next.count == 41);
    CHECK(next.rate == 3.0);                                 // int -> double: integers are accepted
    CHECK(next.owner == "ops");
    CHECK(next.timeout == std::chrono::milliseconds(5000));  // new field: its default
    CHECK_FALSE(next.region.has_value());                    // new optional field: nullopt
    // `legacy` was dropped by v2: ignored.

    // And back (a downgrade): v1 ignores the new fields; the double 3.0 is not an int.
    v2::State later = next;
    later.rate = 2.5;
    later.region = Atom("eu");
    CHECK(decode_error<v1::State>(to_term(later)) ==
          "from_term<codec_test::v1::State>: at .rate: expected integer, got 2.5");
    later.rate = 2.0;
    CHECK(decode_error<v1::State>(to_term(later)) ==
          "from_term<codec_test::v1::State>: at .rate: expected integer, got 2.0");
    const Term down = to_term(later).put(Term(Atom("rate")), Term(2));
    const v1::State back = from_term<v1::State>(down);
    CHECK(back.count == 41);
    CHECK(back.rate == 2);
    CHECK(back.legacy.empty());
}

TEST_CASE("type names in messages are tidied", "[codec]") {
    CHECK(detail::type_name<std::string>() == "std::string");
    CHECK(detail::type_name<std::string_view>() == "std::string_view");
    CHECK(detail::type_name<std::vector<std::string>>() == "std::vector<std::string>");
    CHECK(detail::type_name<std::tuple<std::string, std::string_view>>() == "std::tuple<std::string, std::string_view>");
    CHECK(detail::type_name<codec_test::v2::State>() == "codec_test::v2::State");
}
