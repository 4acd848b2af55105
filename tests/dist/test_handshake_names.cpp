// Node names as erl makes them, the flag constants, the digest, and the
// simultaneous-connect rule.
#include <catch2/catch.hpp>

#include <flags.hpp>
#include <handshake.hpp>
#include <node_name.hpp>

#include <string>

using namespace otpp::dist;

namespace {

HostNames host(std::string short_name, std::optional<std::string> fqdn) { return HostNames{std::move(short_name), std::move(fqdn)}; }

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const NodeNameError& e) {
        return e.what();
    }
    return "<no error>";
}

}  // namespace

TEST_CASE("a short name: --sname foo takes the short host name and --sname foo@h keeps h", "[node_name]") {
    auto h = host("vm", std::string("vm.example.org"));
    CHECK(NodeName::make(NameMode::shortnames, "foo", h).full() == "foo@vm");
    CHECK(NodeName::make(NameMode::shortnames, "foo@other", h).full() == "foo@other");
    // "foo@" is "foo", as with erl.
    CHECK(NodeName::make(NameMode::shortnames, "foo@", h).full() == "foo@vm");
    NodeName n = NodeName::from_option("--sname", "a_b-C9", h);
    CHECK(n.alive == "a_b-C9");
    CHECK(n.host == "vm");
    CHECK(n.mode == NameMode::shortnames);
    CHECK(NodeName::from_option("-sname", "x", h).full() == "x@vm");
}

TEST_CASE("a long name: --name foo takes the fully qualified host name and --name foo@h.d keeps it", "[node_name]") {
    auto h = host("vm", std::string("vm.example.org"));
    CHECK(NodeName::make(NameMode::longnames, "foo", h).full() == "foo@vm.example.org");
    CHECK(NodeName::from_option("--name", "foo@10.0.0.7", h).full() == "foo@10.0.0.7");
    // erl accepts a long name whose host has no dot when it is given.
    CHECK(NodeName::from_option("--name", "foo@vm", h).full() == "foo@vm");
    CHECK(NodeName::from_option("--name", "foo@vm", h).mode == NameMode::longnames);
}

TEST_CASE("a long name: --name foo on a host without a domain is a clear error", "[node_name]") {
    auto msg = error_of([] { NodeName::make(NameMode::longnames, "foo", host("vm", std::nullopt)); });
    CHECK_THAT(msg, Catch::Contains("no fully qualified name"));
    CHECK_THAT(msg, Catch::Contains("--name foo@HOST.DOMAIN"));
}

TEST_CASE("invalid node names are refused with the reason", "[node_name]") {
    auto h = host("vm", std::string("vm.example.org"));
    CHECK_THAT(error_of([&] { NodeName::make(NameMode::shortnames, "", h); }), Catch::Contains("is empty"));
    CHECK_THAT(error_of([&] { NodeName::make(NameMode::shortnames, "@vm", h); }), Catch::Contains("is empty"));
    // erl: "Invalid node name!" for each of these.
    CHECK_THAT(error_of([&] { NodeName::make(NameMode::shortnames, "g-h_i.j", h); }),
               Catch::Contains("'.' is not allowed before '@'"));
    CHECK_THAT(error_of([&] { NodeName::make(NameMode::shortnames, "k+l", h); }),
               Catch::Contains("'+' is not allowed before '@'"));
    CHECK_THAT(error_of([&] { NodeName::make(NameMode::shortnames, "\xc3\x9cn", h); }),
               Catch::Contains("byte 0xc3"));
    // erl: "Can't set short node name!" for a dotted host.
    CHECK_THAT(error_of([&] { NodeName::make(NameMode::shortnames, "a@b.c", h); }),
               Catch::Contains("contains '.', which a short name cannot"));
    CHECK_THAT(error_of([&] { NodeName::make(NameMode::shortnames, "b@127.0.0.1", h); }),
               Catch::Contains("use --name"));
    CHECK_THAT(error_of([&] { NodeName::make(NameMode::longnames, "a@b@c", h); }),
               Catch::Contains("'@' is not allowed in the host part"));
    CHECK_THAT(error_of([&] { NodeName::make(NameMode::longnames, "a@b c", h); }),
               Catch::Contains("byte 0x20"));
    CHECK_THAT(error_of([&] { NodeName::from_option("--nodename", "a", h); }),
               Catch::Contains("unknown node name option"));
    CHECK_THAT(error_of([&] { NodeName::make(NameMode::longnames, std::string(250, 'a') + "@host.example", h); }),
               Catch::Contains("longer than 255 bytes"));
}

TEST_CASE("a full node name to connect to is checked", "[node_name]") {
    NodeName n = NodeName::parse_full("erl1@vm");
    CHECK(n.alive == "erl1");
    CHECK(n.host == "vm");
    CHECK(NodeName::parse_full("x@h.example").mode == NameMode::longnames);
    CHECK_THROWS_AS(NodeName::parse_full("nohost"), NodeNameError);
    CHECK_THROWS_AS(NodeName::parse_full("@h"), NodeNameError);
    CHECK_THROWS_AS(NodeName::parse_full("a@"), NodeNameError);
    CHECK_THROWS_AS(NodeName::parse_full("a.b@h"), NodeNameError);
    CHECK_THROWS_AS(NodeName::parse_full("a@b@c"), NodeNameError);
}

TEST_CASE("this host's names are found", "[node_name]") {
    HostNames h = HostNames::of_this_host();
    CHECK(!h.short_name.empty());
    CHECK(h.short_name.find('.') == std::string::npos);
    if (h.fqdn) CHECK(h.fqdn->find('.') != std::string::npos);
    // What `erl -sname foo` would be called here.
    CHECK(NodeName::make(NameMode::shortnames, "foo").full() == "foo@" + h.short_name);
}

TEST_CASE("the flag constants have OTP's values", "[flags]") {
    CHECK(DFLAG_PUBLISHED == 0x1);
    CHECK(DFLAG_DIST_HDR_ATOM_CACHE == 0x2000);
    CHECK(DFLAG_UTF8_ATOMS == 0x10000);
    CHECK(DFLAG_BIG_CREATION == 0x40000);
    CHECK(DFLAG_FRAGMENTS == 0x800000);
    CHECK(DFLAG_HANDSHAKE_23 == 0x1000000);
    CHECK(DFLAG_UNLINK_ID == 0x2000000);
    CHECK(DFLAG_MANDATORY_25_DIGEST == 0x4000000);
    CHECK(DFLAG_SPAWN == 0x100000000);
    CHECK(DFLAG_NAME_ME == 0x200000000);
    CHECK(DFLAG_V4_NC == 0x400000000);
    CHECK(DFLAG_ALIAS == 0x800000000);
    // OTP 25's mandatory set, as dist.hrl's MANDATORY_DFLAGS_25 adds up.
    CHECK(DFLAGS_MANDATORY_25 == 0x1070f94);
    CHECK(DFLAGS_ADVERTISED == (DFLAGS_MANDATORY_25 | DFLAG_UNLINK_ID | DFLAG_V4_NC | DFLAG_DIST_MONITOR |
                                DFLAG_DIST_MONITOR_NAME | DFLAG_SPAWN | DFLAG_ALIAS | DFLAG_FRAGMENTS |
                                DFLAG_PUBLISHED));
    CHECK(DFLAGS_ADVERTISED == 0xd03870fbd);
    CHECK((DFLAGS_ADVERTISED & DFLAG_DIST_HDR_ATOM_CACHE) == 0);
    CHECK((DFLAGS_ADVERTISED_HIDDEN & DFLAG_PUBLISHED) == 0);
    CHECK(expand_mandatory_25(DFLAG_MANDATORY_25_DIGEST) == (DFLAG_MANDATORY_25_DIGEST | DFLAGS_MANDATORY_25));
    CHECK(flag_names(DFLAG_UNLINK_ID | DFLAG_V4_NC) == "UNLINK_ID, V4_NC");
    CHECK(flag_names(std::uint64_t{1} << 40) == "UNKNOWN<10000000000>");
}

TEST_CASE("the digest is erlang:md5(Cookie ++ integer_to_list(Challenge))", "[handshake]") {
    // Expected values computed by erl: erlang:md5(["COOKIE"|integer_to_list(12345)]).
    std::array<std::uint8_t, 16> a{232, 50, 107, 173, 137, 103, 108, 218, 223, 41, 251, 83, 140, 143, 43, 12};
    CHECK(handshake_digest(12345, "COOKIE") == a);
    // The challenge is unsigned: 4294967295, not -1.
    std::array<std::uint8_t, 16> b{190, 236, 53, 204, 46, 142, 23, 13, 156, 69, 41, 28, 92, 30, 180, 117};
    CHECK(handshake_digest(0xffffffffu, "abc") == b);
}

TEST_CASE("simultaneous connect: the node with the greater name wins", "[handshake]") {
    // a@h < b@h: on a, b's attempt is accepted (a drops its own); on b, a's is refused.
    CHECK_FALSE(we_win_simultaneous_connect("a@h", "b@h"));
    CHECK(simultaneous_connect_status("a@h", "b@h") == HandshakeStatus::ok_simultaneous);
    CHECK(we_win_simultaneous_connect("b@h", "a@h"));
    CHECK(simultaneous_connect_status("b@h", "a@h") == HandshakeStatus::nok);
    // Atom order is bytewise: "Z" < "a", "ab" > "a", and UTF-8 above ASCII.
    CHECK(we_win_simultaneous_connect("a@h", "Z@h"));
    CHECK(we_win_simultaneous_connect("ab@h", "a@h"));
    CHECK(we_win_simultaneous_connect("\xc3\xa9@h", "z@h"));
    // Exactly one side wins for any pair of distinct names.
    for (auto [x, y] : {std::pair{"n1@vm", "n2@vm"}, std::pair{"x@a", "x@b"}, std::pair{"foo@vm", "foo_@vm"}})
        CHECK(we_win_simultaneous_connect(x, y) != we_win_simultaneous_connect(y, x));
}

TEST_CASE("a random creation is never 0-3", "[handshake]") {
    for (int i = 0; i < 1000; ++i) CHECK(random_creation() >= 4);
}
