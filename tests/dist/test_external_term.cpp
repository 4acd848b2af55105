// The External Term Format codec (host/dist/external_term.hpp): exact
// encodings, every kind round trip, the legacy forms, what is refused, hostile
// input, and round trips through a real erl (Debian's OTP 25).
#include <external_term.hpp>

#include "external_term_alloc_probe.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

using namespace otpp;
using namespace otpp::dist;
using Catch::Matchers::Contains;
namespace alloc_probe = otpp::test::alloc_probe;

namespace {

std::string bytes(std::initializer_list<int> bs) {
    std::string s;
    for (int b : bs) s.push_back(static_cast<char>(b));
    return s;
}
std::string u32be(std::uint32_t v) {
    return bytes({static_cast<int>(v >> 24 & 0xFF), static_cast<int>(v >> 16 & 0xFF), static_cast<int>(v >> 8 & 0xFF),
                  static_cast<int>(v & 0xFF)});
}
std::string atom_ext(std::string_view name) {  // SMALL_ATOM_UTF8_EXT
    return bytes({119, static_cast<int>(name.size())}) + std::string(name);
}

std::string enc(const Term& t, const NodeTable& nodes) {
    std::string out;
    encode(t, out, nodes);
    return out;
}

// Decodes a whole buffer (without version byte) and requires that it is all consumed.
Term dec(std::string_view in, NodeTable& nodes) {
    Term t = decode(in, nodes);
    REQUIRE(in.empty());
    return t;
}

Term roundtrip(const Term& t, NodeTable& nodes) {
    const std::string e = encode_with_version(t, nodes);
    std::string_view in = e;
    Term back = decode_with_version(in, nodes);
    REQUIRE(in.empty());
    return back;
}

// Checks that decoding `in` throws a DecodeError whose message contains `what`.
void refused(std::string_view in, NodeTable& nodes, const std::string& what) {
    INFO("refused input of " << in.size() << " bytes, expecting \"" << what << "\"");
    std::string_view v = in;
    REQUIRE_THROWS_WITH(decode(v, nodes), Contains(what));
    REQUIRE(v.size() == in.size());  // left unchanged
    REQUIRE_THROWS_AS(decode(v, nodes), DecodeError);
}

Term deep_tuple(std::size_t depth) {
    Term t = Term(1);
    for (std::size_t i = 0; i < depth; ++i) t = Term::tuple({t});
    return t;
}

// ----- random terms ---------------------------------------------------------------

// Remote nodes of the random terms; none is nonode@nohost (erl's own name
// when it runs undistributed).
struct TestNodes {
    NodeTable table;
    std::vector<std::uint32_t> remote;
    TestNodes() {
        table.set_local({Atom("otpp_prop@localhost"), 0x1234});
        remote.push_back(table.index_of({Atom("b@host"), 1}));
        remote.push_back(table.index_of({Atom("b@host"), 2}));
        remote.push_back(table.index_of({Atom("c@h\xc3\xa9te"), 0xFFFFFFFFu}));
        remote.push_back(table.index_of({Atom("d@h"), 0}));
    }
};

class Gen {
public:
    Gen(std::uint64_t seed, const TestNodes& nodes) : rng_(seed), nodes_(nodes) {}

    Term term(int depth) {
        const int choice = depth <= 0 ? pick(9) : pick(14);
        switch (choice) {
            case 0:
            case 1: return integer();
            case 2: return floating();
            case 3: return Term(atom());
            case 4: return pid();
            case 5: return ref();
            case 6: return Term();
            case 7: return binary();
            case 8: return byte_string();
            case 9:
            case 10: {
                std::vector<Term> es;
                const int n = pick(20) == 0 ? 256 + pick(50) : pick(5);  // sometimes LARGE_TUPLE_EXT
                for (int i = 0; i < n; ++i) es.push_back(n > 5 ? integer() : term(depth - 1));
                return Term::tuple(std::move(es));
            }
            case 11:
            case 12: {
                std::vector<Term> es;
                for (int i = 1 + pick(5); i > 0; --i) es.push_back(term(depth - 1));
                Term tail;
                if (pick(3) == 0) {
                    tail = term(depth - 1);
                    if (tail.is_list()) tail = Term(atom());  // keep it improper
                }
                return Term::list(std::move(es), tail);
            }
            default: {
                std::vector<std::pair<Term, Term>> es;
                const int n = pick(10) == 0 ? 33 + pick(40) : pick(5);  // > 32 keys: a HAMT in the BEAM
                for (int i = 0; i < n; ++i) es.emplace_back(n > 5 ? integer() : term(depth - 1), term(depth - 1));
                return Term::map(std::move(es));
            }
        }
    }

    Term integer() {
        static const std::int64_t edges[] = {0,
                                             1,
                                             -1,
                                             255,
                                             256,
                                             -256,
                                             std::numeric_limits<std::int32_t>::max(),
                                             std::numeric_limits<std::int32_t>::min(),
                                             std::int64_t{1} << 31,
                                             -(std::int64_t{1} << 31) - 1,
                                             std::int64_t{1} << 62,
                                             std::numeric_limits<std::int64_t>::max(),
                                             std::numeric_limits<std::int64_t>::min()};
        switch (pick(4)) {
            case 0: return Term(edges[pick(static_cast<int>(std::size(edges)))]);
            case 1: return Term(static_cast<std::int64_t>(rng_()));
            case 2: return Term(static_cast<std::int64_t>(rng_() >> pick(64)) * (pick(2) ? 1 : -1));
            default: return Term(static_cast<std::int64_t>(pick(600)) - 300);
        }
    }

    Term floating() {
        // Never -0.0: OTP 25 takes it =:= 0.0, so it would merge map keys.
        switch (pick(4)) {
            case 0: return Term(static_cast<double>(pick(41)) - 20.5);
            case 1: return Term(std::ldexp(1.0, pick(2098) - 1074));  // subnormals .. huge
            default:
                for (;;) {
                    const double d = std::bit_cast<double>(rng_());
                    if (std::isfinite(d) && d != 0.0) return Term(d);
                }
        }
    }

    Atom atom() {
        static const char* const pool[] = {"ok", "true", "false", "", "hello world", "EXIT", "caf\xc3\xa9",
                                           "\xe2\x9c\x93", "\xf0\x9f\x98\x80x", "nonode@nohost", "a'b", "\xc3\xbf"};
        return Atom(pool[pick(static_cast<int>(std::size(pool)))]);
    }

    Term pid() {
        const std::uint32_t node = pick(3) == 0 ? 0 : nodes_.remote[pick(static_cast<int>(nodes_.remote.size()))];
        return Term(Pid{node, static_cast<std::uint32_t>(rng_()), static_cast<std::uint32_t>(rng_() % 5)});
    }

    Term ref() {
        if (pick(3) == 0) return Term(Ref{0, rng_()});
        const std::uint32_t node = nodes_.remote[pick(static_cast<int>(nodes_.remote.size()))];
        return Term(pack_ref({node, static_cast<std::uint32_t>(rng_() & ref_word0_max),
                              static_cast<std::uint32_t>(rng_()), static_cast<std::uint32_t>(rng_())}));
    }

    Term binary() {
        std::string s;
        for (int i = pick(3) == 0 ? 300 : pick(10); i > 0; --i) s.push_back(static_cast<char>(rng_()));
        return Term::binary(s);
    }

    Term byte_string() {
        std::vector<Term> es;
        for (int i = 1 + pick(12); i > 0; --i) es.emplace_back(static_cast<std::int64_t>(pick(256)));
        return Term::list(std::move(es));
    }

    int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }

private:
    std::mt19937_64 rng_;
    const TestNodes& nodes_;
};

// ----- erl ------------------------------------------------------------------------

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "otpp-etf-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string file(const char* name) const { return (path / name).string(); }
};

void write_file(const std::string& path, std::string_view data) {
    std::ofstream f(path, std::ios::binary);
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
    REQUIRE(f.good());
}
std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

// Runs `erl -noshell -eval CODE` (CODE ends with halt()) with stdout and stderr
// in DIR/erl.log; kills it after `timeout`. Returns the log; requires exit 0.
std::string run_erl(const TempDir& dir, const std::string& code,
                    std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const std::string log = dir.file("erl.log");
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (std::FILE* f = std::freopen(log.c_str(), "w", stdout)) (void)f;
        ::dup2(STDOUT_FILENO, STDERR_FILENO);
        if (!std::getenv("HOME")) ::setenv("HOME", dir.path.c_str(), 1);
        const char* argv[] = {OTPP_ERL_BINARY, "-noshell", "-eval", code.c_str(), nullptr};
        ::execv(OTPP_ERL_BINARY, const_cast<char* const*>(argv));
        std::_Exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {
        const pid_t r = ::waitpid(child, &status, WNOHANG);
        if (r == child) break;
        REQUIRE(r == 0);
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(child, SIGKILL);
            ::waitpid(child, &status, 0);
            FAIL("erl did not finish within " << timeout.count() << " s; log:\n" << read_file(log));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const std::string out = read_file(log);
    INFO("erl log:\n" << out);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return out;
}

// Erlang text that builds `t` without binary_to_term of our encoding: floats
// from their bits, atoms and binaries from their bytes, pids and refs from
// NEW_PID_EXT / NEWER_REFERENCE_EXT bytes laid out here. ASCII only.
void erl_bytes(std::string& out, std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(static_cast<unsigned char>(s[i]));
    }
}
void erl_expr(std::string& out, const Term& t, const NodeTable& nodes) {
    switch (t.kind()) {
        case TermKind::Integer: out += std::to_string(t.get<std::int64_t>()); return;
        case TermKind::Float:
            out += "Fl(" + std::to_string(std::bit_cast<std::uint64_t>(t.get<double>())) + ")";
            return;
        case TermKind::Atom:
            out += "binary_to_atom(<<";
            erl_bytes(out, t.get<Atom>().name());
            out += ">>, utf8)";
            return;
        case TermKind::Pid: {
            const Pid p = t.get<Pid>();
            const NodeIncarnation n = *nodes.node(p.node);
            out += "binary_to_term(<<131,88,119," + std::to_string(n.name.name().size()) + ",";
            erl_bytes(out, n.name.name());
            out += "," + std::to_string(p.id) + ":32," + std::to_string(p.serial) + ":32," +
                   std::to_string(n.creation) + ":32>>)";
            return;
        }
        case TermKind::Reference: {
            const RefWords w = unpack_ref(t.get<Ref>());
            const NodeIncarnation n = *nodes.node(w.node_index);
            out += "binary_to_term(<<131,90,3:16,119," + std::to_string(n.name.name().size()) + ",";
            erl_bytes(out, n.name.name());
            out += "," + std::to_string(n.creation) + ":32," + std::to_string(w.w0) + ":32," + std::to_string(w.w1) +
                   ":32," + std::to_string(w.w2) + ":32>>)";
            return;
        }
        case TermKind::Tuple: {
            out += '{';
            bool first = true;
            for (const Term& e : t.elements()) {
                if (!first) out += ',';
                first = false;
                erl_expr(out, e, nodes);
            }
            out += '}';
            return;
        }
        case TermKind::Map: {
            out += "#{";
            bool first = true;
            for (const MapEntry& e : t.entries()) {
                if (!first) out += ',';
                first = false;
                erl_expr(out, e.key, nodes);
                out += " => ";
                erl_expr(out, e.value, nodes);
            }
            out += '}';
            return;
        }
        case TermKind::Nil: out += "[]"; return;
        case TermKind::List: {
            out += '[';
            bool first = true;
            for (const Term& e : t.elements()) {
                if (!first) out += ',';
                first = false;
                erl_expr(out, e, nodes);
            }
            if (!t.tail().is_nil()) {
                out += '|';
                erl_expr(out, t.tail(), nodes);
            }
            out += ']';
            return;
        }
        case TermKind::Binary:
            out += "<<";
            erl_bytes(out, t.bytes());
            out += ">>";
            return;
    }
}

bool contains_map(const Term& t) {
    switch (t.kind()) {
        case TermKind::Map: return true;
        case TermKind::Tuple:
            for (const Term& e : t.elements())
                if (contains_map(e)) return true;
            return false;
        case TermKind::List:
            for (const Term& e : t.elements())
                if (contains_map(e)) return true;
            return contains_map(t.tail());
        default: return false;
    }
}

// Splits erl's answer: records of <<Status, Len:32, Bytes:Len/binary>>.
struct ErlRecord {
    char status;
    std::string bytes;
};
std::vector<ErlRecord> split_records(std::string_view all) {
    std::vector<ErlRecord> out;
    while (!all.empty()) {
        REQUIRE(all.size() >= 5);
        const auto* p = reinterpret_cast<const unsigned char*>(all.data());
        const std::size_t n = static_cast<std::size_t>(p[1]) << 24 | static_cast<std::size_t>(p[2]) << 16 |
                              static_cast<std::size_t>(p[3]) << 8 | p[4];
        REQUIRE(all.size() >= 5 + n);
        out.push_back({all[0], std::string(all.substr(5, n))});
        all.remove_prefix(5 + n);
    }
    return out;
}

}  // namespace

// ----- exact encodings --------------------------------------------------------------

TEST_CASE("ETF: integers encode as the BEAM encodes them", "[dist][etf]") {
    NodeTable nodes;
    CHECK(enc(Term(0), nodes) == bytes({97, 0}));
    CHECK(enc(Term(255), nodes) == bytes({97, 255}));
    CHECK(enc(Term(256), nodes) == bytes({98, 0, 0, 1, 0}));
    CHECK(enc(Term(-1), nodes) == bytes({98, 255, 255, 255, 255}));
    CHECK(enc(Term(std::int64_t{2147483647}), nodes) == bytes({98, 127, 255, 255, 255}));
    CHECK(enc(Term(std::int64_t{-2147483648}), nodes) == bytes({98, 128, 0, 0, 0}));
    CHECK(enc(Term(std::int64_t{1} << 31), nodes) == bytes({110, 4, 0, 0, 0, 0, 128}));
    CHECK(enc(Term(-(std::int64_t{1} << 31) - 1), nodes) == bytes({110, 4, 1, 1, 0, 0, 128}));
    CHECK(enc(Term(std::numeric_limits<std::int64_t>::max()), nodes) ==
          bytes({110, 8, 0, 255, 255, 255, 255, 255, 255, 255, 127}));
    CHECK(enc(Term(std::numeric_limits<std::int64_t>::min()), nodes) == bytes({110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128}));
}

TEST_CASE("ETF: the other kinds encode as the BEAM encodes them", "[dist][etf]") {
    NodeTable nodes;
    CHECK(encode_with_version(Term(1.5), nodes) == bytes({131, 70, 63, 248, 0, 0, 0, 0, 0, 0}));
    CHECK(enc(Term(-0.0), nodes) == bytes({70, 128, 0, 0, 0, 0, 0, 0, 0}));
    CHECK(enc(Term(Atom("abc")), nodes) == atom_ext("abc"));
    CHECK(enc(Term(true), nodes) == atom_ext("true"));
    CHECK(enc(Term(), nodes) == bytes({106}));
    CHECK(enc(Term::tuple(std::vector<Term>{}), nodes) == bytes({104, 0}));
    CHECK(enc(Term::map(std::vector<std::pair<Term, Term>>{}), nodes) == bytes({116, 0, 0, 0, 0}));
    CHECK(enc(Term::binary(""), nodes) == bytes({109, 0, 0, 0, 0}));
    CHECK(enc(Term::binary("hi"), nodes) == bytes({109, 0, 0, 0, 2, 'h', 'i'}));
    // [1,2|3], as term_to_binary([1,2|3]) writes it.
    CHECK(enc(Term::list({Term(1), Term(2)}, Term(3)), nodes) == bytes({108, 0, 0, 0, 2, 97, 1, 97, 2, 97, 3}));
    // #{b => 2, a => 1}: keys in order.
    CHECK(enc(Term::parse("#{b => 2, a => 1}"), nodes) ==
          bytes({116, 0, 0, 0, 2}) + atom_ext("a") + bytes({97, 1}) + atom_ext("b") + bytes({97, 2}));
    // A tuple of 256 elements needs LARGE_TUPLE_EXT.
    std::vector<Term> es(256, Term(0));
    const std::string big = enc(Term::tuple(std::move(es)), nodes);
    CHECK(big.substr(0, 5) == bytes({105, 0, 0, 1, 0}));
    CHECK(big.size() == 5 + 2 * 256);
}

TEST_CASE("ETF: lists of bytes are STRING_EXT, as the BEAM writes them", "[dist][etf]") {
    NodeTable nodes;
    CHECK(enc(Term::list({Term(104), Term(105)}), nodes) == bytes({107, 0, 2, 'h', 'i'}));
    CHECK(enc(Term::list({Term(0), Term(255)}), nodes) == bytes({107, 0, 2, 0, 255}));
    // 256, a negative, a float, an improper tail: LIST_EXT.
    CHECK(enc(Term::list({Term(104), Term(256)}), nodes)[0] == 108);
    CHECK(enc(Term::list({Term(104), Term(-1)}), nodes)[0] == 108);
    CHECK(enc(Term::list({Term(104), Term(1.0)}), nodes)[0] == 108);
    CHECK(enc(Term::list({Term(104)}, Term(105)), nodes)[0] == 108);
    // Up to 65535 elements; one more is LIST_EXT.
    std::vector<Term> es(65535, Term(7));
    Term s = Term::list(std::span<const Term>(es));
    std::string e = enc(s, nodes);
    CHECK(e.size() == 3 + 65535);
    CHECK(e.substr(0, 3) == bytes({107, 255, 255}));
    CHECK(dec(e, nodes) == s);
    es.push_back(Term(7));
    Term l = Term::list(std::span<const Term>(es));
    e = enc(l, nodes);
    CHECK(e.substr(0, 5) == bytes({108, 0, 1, 0, 0}));
    CHECK(dec(e, nodes) == l);
    // Erlang sends "hello" as STRING_EXT; it decodes to a list of integers.
    CHECK(dec(bytes({107, 0, 5, 'h', 'e', 'l', 'l', 'o'}), nodes) ==
          Term::list({Term(104), Term(101), Term(108), Term(108), Term(111)}));
    CHECK(dec(bytes({107, 0, 0}), nodes) == Term());
}

TEST_CASE("ETF: pids and refs carry the node table's incarnations", "[dist][etf]") {
    NodeTable nodes;
    nodes.set_local({Atom("a@host"), 5});
    const std::uint32_t b = nodes.index_of({Atom("b@host"), 9});
    CHECK(enc(Term(Pid{0, 42, 1}), nodes) ==
          bytes({88}) + atom_ext("a@host") + u32be(42) + u32be(1) + u32be(5));
    CHECK(enc(Term(Pid{b, 7, 0}), nodes) == bytes({88}) + atom_ext("b@host") + u32be(7) + u32be(0) + u32be(9));
    CHECK(enc(Term(Ref{0, 0x0000000100000002ull}), nodes) ==
          bytes({90, 0, 3}) + atom_ext("a@host") + u32be(5) + u32be(0) + u32be(1) + u32be(2));
    CHECK(enc(Term(pack_ref({b, 0x3FFFF, 3, 4})), nodes) ==
          bytes({90, 0, 3}) + atom_ext("b@host") + u32be(9) + u32be(0x3FFFF) + u32be(3) + u32be(4));
    // An index the table never handed out cannot be encoded.
    std::string out;
    CHECK_THROWS_AS(encode(Term(Pid{77, 1, 0}), out, nodes), BadArg);
    CHECK_THROWS_AS(encode(Term::tuple({Term(Ref{77, 1})}), out, nodes), BadArg);
}

TEST_CASE("ETF: pids and refs cross between two nodes' tables", "[dist][etf]") {
    NodeTable a, b;
    a.set_local({Atom("a@host"), 11});
    b.set_local({Atom("b@host"), 22});
    const std::uint32_t b_in_a = a.index_of({Atom("b@host"), 22});
    // a sends its own pid and ref and one of b's: on b, the first two are
    // remote (a@host/11), the last ones local.
    const Term msg = Term::tuple({Term(Pid{0, 5, 1}), Term(Ref{0, 0xABCDEF0123ull}), Term(Pid{b_in_a, 9, 2}),
                                  Term(pack_ref({b_in_a, 0x2AAAA, 3, 4}))});
    std::string wire;
    encode(msg, wire, a);
    const Term got = dec(wire, b);
    const std::uint32_t a_in_b = *b.newest(Atom("a@host"));
    CHECK(a_in_b != 0);
    CHECK(b.node(a_in_b)->creation == 11);
    CHECK(got[0] == Term(Pid{a_in_b, 5, 1}));
    CHECK(got[1] == Term(pack_ref({a_in_b, 0, 0xAB, 0xCDEF0123u})));
    CHECK(got[2] == Term(Pid{0, 9, 2}));
    CHECK(got[3] == Term(pack_ref({0, 0x2AAAA, 3, 4})));
    // ... and back to a, where they are what a sent.
    CHECK(dec(enc(got, b), a) == msg);
    // A restarted b (new creation) is another incarnation: another index on a.
    NodeTable b2;
    b2.set_local({Atom("b@host"), 23});
    const Term p2 = dec(enc(Term(Pid{0, 9, 2}), b2), a);
    CHECK(p2.get<Pid>().node != b_in_a);
    CHECK(p2 != Term(Pid{b_in_a, 9, 2}));
    CHECK(*a.newest(Atom("b@host")) == p2.get<Pid>().node);
}

TEST_CASE("ETF: threads decode into one node table at once", "[dist][etf]") {
    NodeTable nodes;
    std::vector<std::string> wires;
    {
        NodeTable sender;
        for (int i = 0; i < 200; ++i) {
            const std::uint32_t n = sender.index_of({Atom("t" + std::to_string(i) + "@h"), 1});
            wires.push_back(enc(Term::tuple({Term(Pid{n, 1, 0}), Term(Atom("atom_" + std::to_string(i)))}), sender));
        }
    }
    std::vector<std::vector<Term>> results(4);
    std::vector<std::thread> threads;
    for (std::size_t k = 0; k < results.size(); ++k)
        threads.emplace_back([&, k] {
            for (std::size_t i = 0; i < wires.size(); ++i) {
                std::string_view in = wires[(i + 50 * k) % wires.size()];
                results[k].push_back(decode(in, nodes));
            }
        });
    for (auto& t : threads) t.join();
    for (std::size_t k = 1; k < results.size(); ++k)
        for (std::size_t i = 0; i < wires.size(); ++i)
            CHECK(results[k][(i + wires.size() - 50 * k % wires.size()) % wires.size()] == results[0][i]);
    for (std::size_t i = 0; i < wires.size(); ++i)
        CHECK(nodes.node(results[0][i][0].get<Pid>().node)->name == Atom("t" + std::to_string(i) + "@h"));
}

// ----- round trips --------------------------------------------------------------------

TEST_CASE("ETF: every kind round trips, edge integers and floats included", "[dist][etf]") {
    NodeTable nodes;
    const std::uint32_t r = nodes.index_of({Atom("r@h"), 3});
    const std::vector<Term> terms = {
        Term(0),
        Term(1),
        Term(-1),
        Term(255),
        Term(256),
        Term(-255),
        Term(-256),
        Term(std::int64_t{1} << 31),
        Term((std::int64_t{1} << 31) - 1),
        Term(-(std::int64_t{1} << 31)),
        Term(-(std::int64_t{1} << 31) - 1),
        Term(std::int64_t{1} << 32),
        Term(std::int64_t{1} << 62),
        Term(std::numeric_limits<std::int64_t>::max()),
        Term(std::numeric_limits<std::int64_t>::min()),
        Term(std::numeric_limits<std::int64_t>::min() + 1),
        Term(0.0),
        Term(-0.0),
        Term(1.5),
        Term(-1e300),
        Term(std::numeric_limits<double>::denorm_min()),
        Term(std::numeric_limits<double>::max()),
        Term(std::numeric_limits<double>::lowest()),
        Term(true),
        Term(false),
        Term(Atom("")),
        Term(Atom("caf\xc3\xa9 \xe2\x9c\x93")),
        Term(Atom(std::string(255, 'x'))),
        Term(Pid{0, 0, 0}),
        Term(Pid{0, 0xFFFFFFFF, 0xFFFFFFFF}),
        Term(Pid{r, 12, 3}),
        Term(Ref{0, 0}),
        Term(Ref{0, ~0ull}),
        Term(pack_ref({r, ref_word0_max, 0xFFFFFFFF, 1})),
        Term(),
        Term::tuple(std::vector<Term>{}),
        Term::tuple({Term(1), Term(Atom("a")), Term()}),
        Term::map(std::vector<std::pair<Term, Term>>{}),
        Term::parse("#{a => 1, 1 => a, 1.0 => b, {x} => [y], <<\"k\">> => #{}}"),
        Term::binary(""),
        Term::binary(std::string("\0\xff\x80 bytes", 9)),
        Term::list({Term(1), Term(2)}),
        Term::list({Term(1), Term(2)}, Term(Atom("tail"))),
        Term::list({Term(300)}, Term::binary("x")),
        Term::list({Term(104), Term(105)}, Term(106)),
        Term::list({Term::list({Term(1)})}),
        Term::parse("[[], [[]], {[]}, #{[] => []}]"),
    };
    for (const Term& t : terms) {
        INFO(t.to_string());
        CHECK(roundtrip(t, nodes) == t);
    }
    // All of them in one list, and in one tuple.
    CHECK(roundtrip(Term::list(std::span<const Term>(terms)), nodes) == Term::list(std::span<const Term>(terms)));
    CHECK(roundtrip(Term::tuple(std::span<const Term>(terms)), nodes) == Term::tuple(std::span<const Term>(terms)));
}

TEST_CASE("ETF: random terms round trip", "[dist][etf]") {
    TestNodes nodes;
    Gen gen(20261123, nodes);
    for (int i = 0; i < 2000; ++i) {
        const Term t = gen.term(5);
        INFO(t.to_string(2000));
        REQUIRE(roundtrip(t, nodes.table) == t);
    }
}

TEST_CASE("ETF: deep terms, long lists and big maps", "[dist][etf]") {
    NodeTable nodes;
    SECTION("nesting up to max_decode_depth decodes; one more level is refused") {
        const Term deepest = deep_tuple(max_decode_depth);
        CHECK(roundtrip(deepest, nodes) == deepest);
        const std::string too_deep = enc(deep_tuple(max_decode_depth + 1), nodes);  // encoding has no limit
        std::string_view in = too_deep;
        CHECK_THROWS_WITH(decode(in, nodes), Contains("nesting deeper than 10000"));
        // Lists nest the same way.
        Term l = Term(1);
        for (std::size_t i = 0; i < max_decode_depth; ++i) l = Term::list({l});
        CHECK(roundtrip(l, nodes) == l);
        // Deep maps (values).
        Term m = Term(1);
        for (std::size_t i = 0; i < 5000; ++i) m = Term::map({{Term(Atom("k")), m}});
        CHECK(roundtrip(m, nodes) == m);
    }
    SECTION("a list whose tail is a list, 200,000 times, is spliced: no depth, linear time") {
        std::string e;
        for (int i = 0; i < 200000; ++i) e += bytes({108, 0, 0, 0, 1, 97, static_cast<int>(i % 256)});
        e += bytes({107, 0, 2, 1, 2});  // ends in a STRING_EXT
        const auto t0 = std::chrono::steady_clock::now();
        const Term t = dec(e, nodes);
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
        REQUIRE(t.size() == 200002);
        CHECK(t[199999] == Term(199999 % 256));
        CHECK(t[200001] == Term(2));
        // An improper end: LIST_EXT 0 elements whose tail is an atom.
        std::string f = bytes({108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 0}) + atom_ext("z");
        CHECK(dec(f, nodes) == Term::list({Term(1)}, Term(Atom("z"))));
    }
    SECTION("a long list and a big map") {
        std::vector<Term> es;
        std::vector<std::pair<Term, Term>> kv;
        for (int i = 0; i < 100000; ++i) {
            es.push_back(Term::tuple({Term(i), Term::binary(std::to_string(i))}));
            kv.emplace_back(Term(i * 7), Term::list({Term(i)}));
            kv.emplace_back(Term::binary("k" + std::to_string(i)), Term(Atom("v")));
        }
        const Term list = Term::list(std::move(es));
        const Term map = Term::map(std::move(kv));
        CHECK(map.size() == 200000);
        CHECK(roundtrip(list, nodes) == list);
        CHECK(roundtrip(map, nodes) == map);
    }
}

TEST_CASE("ETF: decode consumes one term and leaves the rest", "[dist][etf]") {
    NodeTable nodes;
    std::string two = enc(Term(Atom("first")), nodes) + enc(Term::tuple({Term(2)}), nodes) + "rest";
    std::string_view in = two;
    CHECK(decode(in, nodes) == Term(Atom("first")));
    CHECK(decode(in, nodes) == Term::tuple({Term(2)}));
    CHECK(in == "rest");
    // term_to_binary form: the version byte is required.
    std::string v = encode_with_version(Term(1), nodes);
    std::string_view vin = v;
    CHECK(decode_with_version(vin, nodes) == Term(1));
    std::string_view nov = "\x61\x01";
    CHECK_THROWS_WITH(decode_with_version(nov, nodes), Contains("expected the version byte 131, got 97"));
    std::string_view empty;
    CHECK_THROWS_AS(decode_with_version(empty, nodes), DecodeError);
    // Offsets count from the start of the view.
    std::string bad = bytes({131, 104, 2, 97, 1, 222});
    std::string_view bin = bad;
    try {
        decode_with_version(bin, nodes);
        FAIL("no error");
    } catch (const DecodeError& e) {
        CHECK(e.offset() == 5);
        CHECK_THAT(e.what(), Contains("unknown tag 222") && Contains("at byte 5"));
    }
    CHECK(bin.size() == bad.size());
}

// ----- the older and alternative forms ------------------------------------------------------

TEST_CASE("ETF: legacy and alternative forms decode", "[dist][etf]") {
    NodeTable nodes;
    nodes.set_local({Atom("me@here"), 77});
    // Latin-1 atoms (ATOM_EXT, SMALL_ATOM_EXT), and the UTF-8 forms.
    CHECK(dec(bytes({100, 0, 4, 'c', 'a', 'f', 0xE9}), nodes) == Term(Atom("caf\xc3\xa9")));
    CHECK(dec(bytes({115, 3, 'a', 'b', 'c'}), nodes) == Term(Atom("abc")));
    CHECK(dec(bytes({115, 4}) + "true", nodes) == Term(true));
    CHECK(dec(bytes({100, 0, 5}) + "false", nodes) == Term(false));
    CHECK(dec(bytes({118, 0, 3, 0xE2, 0x9C, 0x93}), nodes) == Term(Atom("\xe2\x9c\x93")));
    CHECK(dec(bytes({119, 0}), nodes) == Term(Atom("")));
    // 255 Latin-1 characters, all ASCII: fits.
    CHECK(dec(bytes({100, 0, 255}) + std::string(255, 'q'), nodes) == Term(Atom(std::string(255, 'q'))));
    // FLOAT_EXT ("%.20e"), as minor_version 0 writes it.
    std::string fe = "1.50000000000000000000e+00";
    fe.resize(31, '\0');
    CHECK(dec(bytes({99}) + fe, nodes) == Term(1.5));
    std::string fn = "-3.14159265358979311600e+00";
    fn.resize(31, '\0');
    CHECK(dec(bytes({99}) + fn, nodes) == Term(-3.141592653589793));
    // Bigs: LARGE_BIG_EXT, leading zero digits, negative zero, the int64 edges.
    CHECK(dec(bytes({111, 0, 0, 0, 2, 0, 1, 0}), nodes) == Term(1));
    CHECK(dec(bytes({110, 12, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), nodes) == Term(-5));
    CHECK(dec(bytes({110, 0, 0}), nodes) == Term(0));
    CHECK(dec(bytes({110, 1, 1, 0}), nodes) == Term(0));
    CHECK(dec(bytes({110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128}), nodes) == Term(std::numeric_limits<std::int64_t>::min()));
    CHECK(dec(bytes({110, 2, 0, 1, 0}), nodes) == Term(1));  // small values as bigs
    // BIT_BINARY_EXT with a whole last byte is a binary; <<>> as 0 bytes, 0 bits.
    CHECK(dec(bytes({77, 0, 0, 0, 2, 8, 1, 2}), nodes) == Term::binary(std::string("\x01\x02", 2)));
    CHECK(dec(bytes({77, 0, 0, 0, 0, 0}), nodes) == Term::binary(""));
    // LIST_EXT with no elements is its tail.
    CHECK(dec(bytes({108, 0, 0, 0, 0, 97, 1}), nodes) == Term(1));
    CHECK(dec(bytes({108, 0, 0, 0, 0, 106}), nodes) == Term());
    // Maps in any order; LARGE_TUPLE_EXT with a small arity.
    CHECK(dec(bytes({116, 0, 0, 0, 2, 97, 2, 97, 20, 97, 1, 97, 10}), nodes) ==
          Term::map({{Term(1), Term(10)}, {Term(2), Term(20)}}));
    CHECK(dec(bytes({105, 0, 0, 0, 1, 106}), nodes) == Term::tuple({Term()}));
    CHECK(dec(bytes({105, 0, 0, 0, 0}), nodes) == Term::tuple(std::vector<Term>{}));
    // PID_EXT (8-bit creation) and NEW_PID_EXT name the same incarnation.
    const Term old_pid = dec(bytes({103}) + atom_ext("x@y") + u32be(5) + u32be(1) + bytes({2}), nodes);
    const Term new_pid = dec(bytes({88}) + atom_ext("x@y") + u32be(5) + u32be(1) + u32be(2), nodes);
    CHECK(old_pid == new_pid);
    CHECK(old_pid.get<Pid>().node == *nodes.newest(Atom("x@y")));
    // Node names in any atom form (here ATOM_EXT, as OTP 25's term_to_binary writes them).
    CHECK(dec(bytes({88, 100, 0, 3, 'x', '@', 'y'}) + u32be(5) + u32be(1) + u32be(2), nodes) == new_pid);
    // Pids of this node's incarnation are local; another creation of its name
    // is another node, creation 0 included (as in OTP 25: not the old
    // ORIG_CREATION rule).
    CHECK(dec(bytes({88}) + atom_ext("me@here") + u32be(9) + u32be(0) + u32be(77), nodes) == Term(Pid{0, 9, 0}));
    CHECK(dec(bytes({88}) + atom_ext("me@here") + u32be(9) + u32be(0) + u32be(0), nodes).get<Pid>().node != 0);
    CHECK(dec(bytes({88}) + atom_ext("me@here") + u32be(9) + u32be(0) + u32be(78), nodes).get<Pid>().node != 0);
    // References: REFERENCE_EXT (1 word), NEW_REFERENCE_EXT (8-bit creation),
    // NEWER_REFERENCE_EXT with 1..5 words (missing words are zero, extra zero
    // words are ignored: Erlang compares refs that way).
    const std::uint32_t xy = *nodes.newest(Atom("x@y"));
    const Term r1 = Term(pack_ref({xy, 7, 0, 0}));
    CHECK(dec(bytes({101}) + atom_ext("x@y") + u32be(7) + bytes({2}), nodes) == r1);
    CHECK(dec(bytes({114, 0, 1}) + atom_ext("x@y") + bytes({2}) + u32be(7), nodes) == r1);
    CHECK(dec(bytes({90, 0, 1}) + atom_ext("x@y") + u32be(2) + u32be(7), nodes) == r1);
    CHECK(dec(bytes({90, 0, 5}) + atom_ext("x@y") + u32be(2) + u32be(7) + u32be(0) + u32be(0) + u32be(0) + u32be(0),
              nodes) == r1);
    CHECK(dec(bytes({114, 0, 3}) + atom_ext("x@y") + bytes({2}) + u32be(7) + u32be(8) + u32be(9), nodes) ==
          Term(pack_ref({xy, 7, 8, 9})));
    // A local ref comes back as the same Ref.
    const Term local_ref = Term(Ref{0, 0xDEADBEEF12345678ull});
    CHECK(dec(enc(local_ref, nodes), nodes) == local_ref);
}

// ----- refused ---------------------------------------------------------------------------------

TEST_CASE("ETF: unrepresentable and unsupported terms are refused with a reason", "[dist][etf]") {
    NodeTable nodes;
    // Bignums beyond int64.
    refused(bytes({110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 128}), nodes, "9223372036854775808 does not fit in int64");
    refused(bytes({110, 8, 1, 1, 0, 0, 0, 0, 0, 0, 128}), nodes, "-9223372036854775809 does not fit in int64");
    refused(bytes({110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), nodes, "does not fit in 64 bits");
    refused(bytes({111, 0, 0, 1, 0, 0}) + std::string(256, '\x01'), nodes, "does not fit in 64 bits");
    refused(bytes({110, 1, 2, 1}), nodes, "sign byte");
    // Funs and ports.
    refused(bytes({113}) + atom_ext("lists") + atom_ext("map") + bytes({97, 2}), nodes, "EXPORT_EXT");
    refused(bytes({112, 0, 0, 0, 50}), nodes, "a fun (NEW_FUN_EXT) is not representable");
    refused(bytes({117}), nodes, "FUN_EXT");
    refused(bytes({102}), nodes, "a port (PORT_EXT)");
    refused(bytes({89}), nodes, "NEW_PORT_EXT");
    refused(bytes({120}), nodes, "V4_PORT_EXT");
    refused(bytes({121}), nodes, "LOCAL_EXT");
    // Bitstrings that do not end on a byte.
    refused(bytes({77, 0, 0, 0, 1, 3, 0xE0}), nodes, "bitstring of 3 bits is not representable");
    refused(bytes({77, 0, 0, 0, 2, 1, 0, 0x80}), nodes, "bitstring of 9 bits");
    refused(bytes({77, 0, 0, 0, 1, 9, 0}), nodes, "9 bits in the last");
    refused(bytes({77, 0, 0, 0, 1, 0, 0}), nodes, "0 bits in the last of 1 bytes");
    // References of more than 3 words, or with a word 0 beyond 18 bits.
    refused(bytes({90, 0, 4}) + atom_ext("x@y") + u32be(0) + u32be(1) + u32be(2) + u32be(3) + u32be(4), nodes,
            "reference of 4 ID words");
    refused(bytes({90, 0, 5}) + atom_ext("x@y") + u32be(0) + u32be(1) + u32be(2) + u32be(3) + u32be(0) + u32be(5),
            nodes, "otpp refs hold 3");
    refused(bytes({90, 0, 6}) + atom_ext("x@y") + u32be(0) + std::string(24, '\0'), nodes, "maximum is 5");
    refused(bytes({90, 0, 0}) + atom_ext("x@y") + u32be(0), nodes, "no ID words");
    refused(bytes({90, 0, 3}) + atom_ext("x@y") + u32be(0) + u32be(0x40000) + u32be(0) + u32be(0), nodes,
            "wider than 18 bits");
    // Compressed terms and atom cache references.
    refused(bytes({80, 0, 0, 0, 10, 0x78, 0x9C}), nodes, "compressed terms are not supported");
    std::string_view compressed = "\x83\x50\x00\x00\x00\x0a";
    CHECK_THROWS_WITH(decode_with_version(compressed, nodes), Contains("compressed"));
    refused(bytes({82, 3}), nodes, "ATOM_CACHE_REF");
    refused(bytes({88, 82, 3}), nodes, "ATOM_CACHE_REF");
    // Atoms: invalid UTF-8, more than 255 characters, more than otpp's 255 bytes.
    refused(bytes({119, 2, 0xC3, 0x28}), nodes, "not valid UTF-8");
    refused(bytes({119, 2, 0xC0, 0x80}), nodes, "not valid UTF-8");              // overlong NUL
    refused(bytes({118, 0, 3, 0xED, 0xA0, 0x80}), nodes, "not valid UTF-8");     // surrogate
    refused(bytes({118, 0, 4, 0xF4, 0x90, 0x80, 0x80}), nodes, "not valid UTF-8");  // > U+10FFFF
    refused(bytes({118, 1, 0}) + std::string(256, 'a'), nodes, "256 characters exceeds Erlang's limit of 255");
    refused(bytes({100, 1, 0}) + std::string(256, 'a'), nodes, "256 characters exceeds Erlang's limit");
    std::string e200;
    for (int i = 0; i < 200; ++i) e200 += "\xc3\xa9";
    refused(bytes({118, 1, 144}) + e200, nodes, "400 UTF-8 bytes exceeds otpp's limit of 255 bytes");
    refused(bytes({100, 0, 200}) + std::string(200, '\xe9'), nodes, "400 UTF-8 bytes");  // Latin-1 é x 200
    refused(bytes({88, 97, 1}), nodes, "node name: expected an atom");
    // Floats Erlang cannot have.
    refused(bytes({70, 0x7F, 0xF0, 0, 0, 0, 0, 0, 0}), nodes, "not finite");
    refused(bytes({70, 0x7F, 0xF8, 0, 0, 0, 0, 0, 1}), nodes, "not finite");
    std::string fe = "nonsense";
    fe.resize(31, '\0');
    refused(bytes({99}) + fe, nodes, "FLOAT_EXT text is not a float");
    // Duplicate map keys (binary_to_term refuses them too).
    refused(bytes({116, 0, 0, 0, 2, 97, 1, 97, 2, 97, 1, 97, 3}), nodes, "duplicate keys");
    // Unknown tags and a stray version byte.
    refused(bytes({0}), nodes, "unknown tag 0");
    refused(bytes({255}), nodes, "unknown tag 255");
    refused(bytes({131, 97, 1}), nodes, "unexpected version byte");
    refused("", nodes, "truncated");
}

// ----- hostile input ------------------------------------------------------------------------

TEST_CASE("ETF: every truncation of a valid encoding is a DecodeError", "[dist][etf]") {
    TestNodes nodes;
    Gen gen(7, nodes);
    std::vector<Term> parts;
    for (int i = 0; i < 60; ++i) parts.push_back(gen.term(3));
    parts.push_back(Term::list({Term(1)}, Term(Atom("improper"))));
    const Term t = Term::tuple(std::move(parts));
    const std::string e = enc(t, nodes.table);
    REQUIRE(dec(e, nodes.table) == t);
    INFO("encoding of " << e.size() << " bytes");
    alloc_probe::start();
    for (std::size_t n = 0; n < e.size(); ++n) {
        std::string_view in(e.data(), n);
        try {
            decode(in, nodes.table);
            FAIL("a prefix of " << n << " bytes decoded");
        } catch (const DecodeError& err) {
            if (n < e.size() && std::string_view(err.what()).find("truncated") == std::string_view::npos &&
                std::string_view(err.what()).find("remain") == std::string_view::npos)
                FAIL("prefix of " << n << " bytes: " << err.what());
        }
        REQUIRE(in.size() == n);
    }
    const auto stats = alloc_probe::stop();
    CHECK(stats.largest < 32 * e.size() + 4096);
}

TEST_CASE("ETF: huge declared sizes are refused before allocating", "[dist][etf]") {
    NodeTable nodes;
    {  // The probe sees libotpp's allocations (a Term box here).
        alloc_probe::start();
        const Term big = Term::binary(std::string(100000, 'x'));
        const auto stats = alloc_probe::stop();
        REQUIRE(stats.largest >= 100000);
    }
    const std::string all = bytes({255, 255, 255, 255});
    const std::vector<std::pair<std::string, std::string>> cases = {
        {bytes({105}) + all + bytes({97, 1}),
         "tuple of 4294967295 elements needs at least 4294967295 more bytes, 2 remain"},
        {bytes({108}) + all + bytes({97, 1}), "list of 4294967295 elements needs at least 4294967296 more bytes"},
        {bytes({116}) + all + bytes({97, 1}), "map of 4294967295 pairs needs at least 8589934590 more bytes"},
        {bytes({109}) + all + "abc", "binary bytes needs 4294967295 more bytes, 3 remain"},
        {bytes({77}) + all + bytes({8}) + "abc", "bitstring bytes needs 4294967295"},
        {bytes({107, 255, 255, 1, 2}), "string bytes needs 65535 more bytes, 2 remain"},
        {bytes({111}) + all + bytes({0, 1}), "big digits needs 4294967295"},
        {bytes({118, 255, 255}), "atom text needs 65535"},
        {bytes({90, 255, 255}) + atom_ext("n@h"), "reference of 65535 ID words"},
        {bytes({104, 255, 97, 1}), "tuple of 255 elements needs at least 255 more bytes, 2 remain"},
    };
    for (const auto& [in, what] : cases) {
        alloc_probe::start();
        refused(in, nodes, what);
        const auto stats = alloc_probe::stop();
        CHECK(stats.largest < (1u << 16));
    }
    // Nested containers that each declare nearly everything that remains: the
    // items owed to the enclosing ones count, so none of these reserve memory.
    std::string nest;
    for (int i = 0; i < 2000; ++i) nest += bytes({105}) + u32be(static_cast<std::uint32_t>(1000000 - 5 * (i + 1) - 1));
    nest += std::string(1000000 - nest.size(), '\x6a');
    alloc_probe::start();
    {
        std::string_view in = nest;
        CHECK_THROWS_WITH(decode(in, nodes), Contains("are owed to enclosing terms"));
    }
    const auto stats = alloc_probe::stop();
    CHECK(stats.total < 64u << 20);
}

TEST_CASE("ETF: depth bombs are refused quickly", "[dist][etf]") {
    NodeTable nodes;
    const auto t0 = std::chrono::steady_clock::now();
    for (const std::string& unit : {bytes({104, 1}), bytes({108, 0, 0, 0, 1}), bytes({116, 0, 0, 0, 1, 97, 1})}) {
        std::string bomb;
        for (int i = 0; i < 1000000; ++i) bomb += unit;
        bomb += bytes({106});
        alloc_probe::start();
        {
            std::string_view in = bomb;
            CHECK_THROWS_WITH(decode(in, nodes), Contains("nesting deeper than"));
        }
        const auto stats = alloc_probe::stop();
        CHECK(stats.total < 64u << 20);
    }
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));
}

TEST_CASE("ETF: mutated encodings decode or throw DecodeError, nothing else", "[dist][etf]") {
    TestNodes nodes;
    Gen gen(99, nodes);
    std::mt19937_64 rng(4242);
    int decoded = 0, refused_count = 0;
    for (int i = 0; i < 3000; ++i) {
        std::string e = enc(gen.term(3), nodes.table);
        for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
            const std::size_t at = rng() % e.size();
            switch (rng() % 3) {
                case 0: e[at] = static_cast<char>(rng()); break;
                case 1: e[at] = static_cast<char>(static_cast<unsigned char>(e[at]) ^ (1u << (rng() % 8))); break;
                default: e[at] = static_cast<char>(std::array<int, 6>{0, 1, 127, 128, 254, 255}[rng() % 6]); break;
            }
        }
        std::string_view in = e;
        try {
            const Term t = decode(in, nodes.table);
            ++decoded;
            // Whatever decodes re-encodes and decodes to the same term.
            CHECK(dec(enc(t, nodes.table), nodes.table) == t);
        } catch (const DecodeError&) {
            ++refused_count;
        }
    }
    CHECK(decoded > 0);
    CHECK(refused_count > 0);
}

// ----- against a real erl --------------------------------------------------------------------

// Random terms go to erl as term_to_binary bytes together with Erlang text
// that builds each term independently; erl checks binary_to_term(Bytes) =:=
// Built and writes term_to_binary(Built) back (minor versions 0, 1 and 2 in
// turn: FLOAT_EXT and Latin-1 ATOM_EXT, NEW_FLOAT_EXT, UTF-8 atoms), which
// we decode and compare with the original.
TEST_CASE("ETF: random terms survive a round trip through erl", "[dist][etf][erl]") {
    TestNodes nodes;
    Gen gen(20261124, nodes);
    TempDir dir;
    std::vector<Term> terms;
    std::string in_bytes, exprs;
    for (int i = 0; i < 400; ++i) {
        const Term t = gen.term(4);
        terms.push_back(t);
        const std::string e = encode_with_version(t, nodes.table);
        in_bytes += u32be(static_cast<std::uint32_t>(e.size())) + e;
        erl_expr(exprs, t, nodes.table);
        exprs += '\n';
    }
    write_file(dir.file("terms.bin"), in_bytes);
    write_file(dir.file("exprs.txt"), exprs);
    const std::string d = dir.path.string();
    const std::string code = R"(
        Dir = ")" + d + R"(",
        {ok, In} = file:read_file(Dir ++ "/terms.bin"),
        {ok, ExprText} = file:read_file(Dir ++ "/exprs.txt"),
        Texts = binary:split(ExprText, <<"\n">>, [global, trim]),
        Fl = fun(N) -> <<F:64/float>> = <<N:64>>, F end,
        Split = fun Split(<<L:32, B:L/binary, Rest/binary>>, Acc) -> Split(Rest, [B | Acc]);
                    Split(<<>>, Acc) -> lists:reverse(Acc) end,
        Bins = Split(In, []),
        Eval = fun(Text) ->
                   {ok, Toks, _} = erl_scan:string(binary_to_list(Text) ++ "."),
                   {ok, Es} = erl_parse:parse_exprs(Toks),
                   {value, V, _} = erl_eval:exprs(Es, erl_eval:add_binding('Fl', Fl, erl_eval:new_bindings())),
                   V
               end,
        Answer = fun(I, Bin, Text) ->
                     case catch binary_to_term(Bin) of
                         {'EXIT', Why} -> io:format("term ~b: binary_to_term failed: ~p~n", [I, Why]), {$E, <<>>};
                         Got ->
                             Built = Eval(Text),
                             Status = case Got =:= Built of true -> $Y; false -> $N end,
                             Status =:= $N andalso io:format("term ~b differs:~n got ~p~n built ~p~n", [I, Got, Built]),
                             {Status, term_to_binary(Built, [{minor_version, I rem 3}])}
                     end
                 end,
        Out = [begin {S, B} = Answer(I, Bin, Text), <<S, (byte_size(B)):32, B/binary>> end
               || {I, Bin, Text} <- lists:zip3(lists:seq(0, length(Bins) - 1), Bins, Texts)],
        ok = file:write_file(Dir ++ "/back.bin", Out),
        io:format("answered ~b terms~n", [length(Out)]),
        halt().
    )";
    const std::string log = run_erl(dir, code);
    INFO("erl log:\n" << log);
    const std::vector<ErlRecord> back = split_records(read_file(dir.file("back.bin")));
    REQUIRE(back.size() == terms.size());
    int identical = 0, compared = 0;
    for (std::size_t i = 0; i < terms.size(); ++i) {
        INFO("term " << i << ": " << terms[i].to_string(3000));
        CHECK(back[i].status == 'Y');
        std::string_view bin = back[i].bytes;
        const Term t = decode_with_version(bin, nodes.table);
        CHECK(bin.empty());
        CHECK(t == terms[i]);
        // With UTF-8 atoms and NEW_FLOAT_EXT (minor version 2) the BEAM's bytes
        // are ours, except for map key order (its term order is not quite ours,
        // and big maps are hash tries).
        if (i % 3 == 2 && !contains_map(terms[i])) {
            ++compared;
            if (back[i].bytes == encode_with_version(terms[i], nodes.table)) ++identical;
        }
    }
    CHECK(compared > 50);
    CHECK(identical == compared);
}

// Terms erl makes and encodes itself, decoded here.
TEST_CASE("ETF: terms encoded by erl decode", "[dist][etf][erl]") {
    TempDir dir;
    const std::string code = R"(
        Dir = ")" + dir.path.string() + R"(",
        Terms = [
            "hello", 3.14, 1 bsl 62, -(1 bsl 62), 9223372036854775807, -9223372036854775808, -0.0,
            #{a => 1, <<"b">> => [1, 2], 3 => {x}}, make_ref(), self(),
            list_to_atom([99, 97, 102, 233]), binary_to_atom(<<226, 156, 147>>, utf8),
            [1, 2 | 3], <<1, 2, 3>>, {}, list_to_tuple(lists:seq(1, 300)),
            maps:from_list([{I, I * I} || I <- lists:seq(1, 100)]), lists:seq(1, 300), "",
            1 bsl 63, -(1 bsl 63) - 1, <<1:3>>, fun() -> ok end, fun lists:map/2, hd(erlang:ports())
        ],
        Bins = [term_to_binary(T, [{minor_version, V}]) || T <- Terms, V <- [0, 1, 2]]
               ++ [term_to_binary(lists:duplicate(100, a), [compressed])],
        ok = file:write_file(Dir ++ "/erl.bin", [<<$Y, (byte_size(B)):32, B/binary>> || B <- Bins]),
        halt().
    )";
    run_erl(dir, code);
    const std::vector<ErlRecord> recs = split_records(read_file(dir.file("erl.bin")));
    REQUIRE(recs.size() == 25 * 3 + 1);
    NodeTable nodes;  // nonode@nohost, creation 0: erl's own name, so its pids and refs are "local" here
    std::vector<Term> expected = {
        Term::list({Term(104), Term(101), Term(108), Term(108), Term(111)}),
        Term(3.14),
        Term(std::int64_t{1} << 62),
        Term(-(std::int64_t{1} << 62)),
        Term(std::numeric_limits<std::int64_t>::max()),
        Term(std::numeric_limits<std::int64_t>::min()),
        Term(-0.0),
        Term::map({{Term(Atom("a")), Term(1)},
                   {Term::binary("b"), Term::list({Term(1), Term(2)})},
                   {Term(3), Term::tuple({Term(Atom("x"))})}}),
        Term(),  // make_ref(): checked below
        Term(),  // self(): checked below
        Term(Atom("caf\xc3\xa9")),
        Term(Atom("\xe2\x9c\x93")),
        Term::list({Term(1), Term(2)}, Term(3)),
        Term::binary(std::string("\x01\x02\x03", 3)),
        Term::tuple(std::vector<Term>{}),
    };
    std::vector<Term> seq300, tup300;
    std::vector<std::pair<Term, Term>> squares;
    for (int i = 1; i <= 300; ++i) seq300.emplace_back(i);
    for (int i = 1; i <= 100; ++i) squares.emplace_back(Term(i), Term(i * i));
    expected.push_back(Term::tuple(std::span<const Term>(seq300)));
    expected.push_back(Term::map(squares));
    expected.push_back(Term::list(std::span<const Term>(seq300)));
    expected.push_back(Term());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        for (int v = 0; v < 3; ++v) {
            const std::string& erl_bytes_v = recs[3 * i + static_cast<std::size_t>(v)].bytes;
            INFO("term " << i << ", minor_version " << v);
            std::string_view in = erl_bytes_v;
            const Term t = decode_with_version(in, nodes);
            CHECK(in.empty());
            if (i == 8) {
                REQUIRE(t.is_ref());
                CHECK(unpack_ref(t.get<Ref>()).node_index == 0);  // erl's nonode@nohost/0 = this table's local
                if (v == 2) CHECK(encode_with_version(t, nodes) == erl_bytes_v);
            } else if (i == 9) {
                REQUIRE(t.is_pid());
                CHECK(t.get<Pid>().node == 0);
                if (v == 2) CHECK(encode_with_version(t, nodes) == erl_bytes_v);
            } else {
                CHECK(t == expected[i]);
                CHECK(t.to_string() == expected[i].to_string());
            }
        }
    }
    // With another local name, erl's pid and ref are remote (nonode@nohost, creation 0).
    NodeTable other;
    other.set_local({Atom("otpp@h"), 1});
    {
        std::string_view in = recs[3 * 9 + 2].bytes;
        const Pid p = decode_with_version(in, other).get<Pid>();
        CHECK(p.node != 0);
        CHECK(other.node(p.node)->name == atoms::nonode_at_nohost);
        CHECK(encode_with_version(Term(p), other) == recs[3 * 9 + 2].bytes);
        std::string_view rin = recs[3 * 8 + 2].bytes;
        const Term r = decode_with_version(rin, other);
        CHECK(unpack_ref(r.get<Ref>()).node_index == p.node);
        CHECK(encode_with_version(r, other) == recs[3 * 8 + 2].bytes);
    }
    // What erl can make but otpp cannot hold, each refused with its reason.
    const std::vector<std::string> reasons = {"does not fit in int64", "does not fit in int64",
                                              "bitstring of 3 bits",   "a fun (NEW_FUN_EXT)",
                                              "EXPORT_EXT",            "a port"};
    for (std::size_t k = 0; k < reasons.size(); ++k) {
        for (int v = 0; v < 3; ++v) {
            std::string_view in = recs[3 * (expected.size() + k) + static_cast<std::size_t>(v)].bytes;
            INFO("refused term " << k << ", minor_version " << v);
            CHECK_THROWS_WITH(decode_with_version(in, nodes), Contains(reasons[k]));
        }
    }
    std::string_view compressed = recs.back().bytes;
    CHECK_THROWS_WITH(decode_with_version(compressed, nodes), Contains("compressed terms are not supported"));
}
