// The [distribution] TLS keys of the host's config file (host_config.*),
// and otpp-host end to end with them: settings that cannot be used stop the
// start with a clear error; good ones make a node a TLS BEAM node can ping.
#include <catch2/catch.hpp>

#include "dist_peer.hpp"
#include "tls_test_pki.hpp"

#include <host_config.hpp>

#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>


using namespace otpp::host;
using namespace otpp::dist;
using namespace otpp::dist::test;
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::string& text) {
    try {
        parse_host_config(text, "/etc/otpp/host.toml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

const std::string node = "[node]\nname = \"tls@localhost\"\n";

// otpp-host --config <dir>/host.toml, stdout and stderr into <dir>/out.txt.
ChildProcess host_process(const fs::path& config) {
    return ChildProcess({OTPP_HOST_BINARY, "--config", config.string()}, config.parent_path() / "out.txt");
}

}  // namespace

TEST_CASE("config: the [distribution] TLS keys, their defaults and paths", "[dist][tls][config]") {
    HostConfig c = parse_host_config(node + "[distribution]\nenabled = true\n", "/etc/otpp/host.toml");
    CHECK_FALSE(c.distribution.tls);
    CHECK(c.distribution.verify_peer);

    c = parse_host_config(node +
                              "[distribution]\nenabled = true\ntls = true\ncertfile = \"certs/node.pem\"\n"
                              "keyfile = \"/secret/node.key\"\ncacertfile = \"../ca/ca.pem\"\n",
                          "/etc/otpp/host.toml");
    CHECK(c.distribution.tls);
    CHECK(c.distribution.certfile == "/etc/otpp/certs/node.pem");  // relative to the config file
    CHECK(c.distribution.keyfile == "/secret/node.key");
    CHECK(c.distribution.cacertfile == "/etc/ca/ca.pem");
    CHECK(c.distribution.verify_peer);
    CHECK(c.distribution.fail_if_no_peer_cert);
    CHECK(c.distribution.verify_hostname);

    c = parse_host_config(node +
                              "[distribution]\ntls = true\ncertfile = \"n.pem\"\nverify = \"verify_none\"\n"
                              "fail_if_no_peer_cert = false\nverify_hostname = false\n",
                          "/etc/otpp/host.toml");
    CHECK_FALSE(c.distribution.verify_peer);  // no cacertfile needed then
    CHECK_FALSE(c.distribution.fail_if_no_peer_cert);
    CHECK_FALSE(c.distribution.verify_hostname);
    CHECK(c.distribution.keyfile.empty());  // the key is in certfile

    // tls = false keeps the settings, unused.
    c = parse_host_config(node + "[distribution]\ntls = false\ncertfile = \"n.pem\"\n", "/etc/otpp/host.toml");
    CHECK_FALSE(c.distribution.tls);
}

TEST_CASE("config: [distribution] busy_limit_kib", "[dist][config]") {
    CHECK(parse_host_config(node + "[distribution]\n", "/etc/otpp/host.toml").distribution.busy_limit_kib == 1024);
    CHECK(parse_host_config(node + "[distribution]\nbusy_limit_kib = 64\n", "/etc/otpp/host.toml")
              .distribution.busy_limit_kib == 64);
    CHECK(error_of(node + "[distribution]\nbusy_limit_kib = 0\n").find("distribution.busy_limit_kib") !=
          std::string::npos);
}

TEST_CASE("config: TLS settings that are incomplete or malformed", "[dist][tls][config]") {
    CHECK(error_of(node + "[distribution]\ntls = true\ncacertfile = \"ca.pem\"\n") ==
          "/etc/otpp/host.toml:3:1: distribution.certfile is required with tls = true (this node's certificate, PEM)");
    CHECK(error_of(node + "[distribution]\ntls = true\ncertfile = \"n.pem\"\n") ==
          "/etc/otpp/host.toml:3:1: distribution.cacertfile is required with tls = true and verify = \"verify_peer\" "
          "(the CAs that sign peers' certificates, PEM)");
    CHECK(error_of(node + "[distribution]\ncertfile = \"n.pem\"\n") ==
          "/etc/otpp/host.toml:4:12: distribution.certfile: a TLS setting, but distribution.tls is not set: add tls = "
          "true (or tls = false to keep them unused)");
    CHECK(error_of(node + "[distribution]\ntls = true\ncertfile = \"\"\n") ==
          "/etc/otpp/host.toml:5:12: distribution.certfile: expected a path; got an empty string");
    CHECK(error_of(node + "[distribution]\ntls = \"yes\"\n") ==
          "/etc/otpp/host.toml:4:7: distribution.tls: expected boolean; got string \"yes\"");
    std::string m = error_of(node + "[distribution]\ntls = true\ncertfile = \"n.pem\"\nverify = \"verify_pier\"\n");
    CHECK(m.starts_with("/etc/otpp/host.toml:6:10: distribution.verify: expected one of "));
    CHECK(m.find("verify_peer") != std::string::npos);
    CHECK(error_of(node + "[distribution]\ntls = true\ncertfile = \"n.pem\"\ncacertfile = \"c.pem\"\ncafile = \"x\"\n")
              .find("distribution.cafile") != std::string::npos);
}

TEST_CASE("otpp-host: unusable TLS settings stop the start, good ones make a node a TLS BEAM node pings",
          "[dist][tls][config][beam]") {
    TempDir dir;
    CertFiles ca = make_ca(dir.path(), "ca");
    CertFiles host_cert = make_node_cert(dir.path(), "host", ca, {.hosts = local_hosts()});
    CertFiles other = make_node_cert(dir.path(), "other", ca, {.hosts = local_hosts()});
    CertFiles beam = make_node_cert(dir.path(), "beam", ca, {.hosts = local_hosts()});
    const std::string alive = unique_alive("tlshostbin");
    const std::string cookie = "HOSTBINCOOKIE";
    auto config = [&](const std::string& keyfile) {
        auto path = dir.path() / "host.toml";
        std::ofstream(path) << "[node]\nname = \"" << alive << "@" << short_host() << "\"\n"
                            << "[control]\nenabled = false\n"
                            << "[distribution]\nenabled = true\ncookie = \"" << cookie << "\"\n"
                            << "tls = true\ncertfile = \"host.crt\"\nkeyfile = \"" << keyfile
                            << "\"\ncacertfile = \"ca.crt\"\n";
        return path;
    };

    SECTION("a key that is not the certificate's") {
        auto host = host_process(config("other.key"));
        CHECK(host.wait_exit(Deadline(20s)) == 1);
        std::string out = host.output();
        INFO(out);
        CHECK(out.find("distribution: TLS keyfile " + other.key.string() +
                       ": its private key does not match the certificate in certfile " + host_cert.cert.string()) !=
              std::string::npos);
    }
    SECTION("a keyfile that does not exist") {
        auto host = host_process(config("nope.key"));
        CHECK(host.wait_exit(Deadline(20s)) == 1);
        std::string out = host.output();
        INFO(out);
        CHECK(out.find("distribution: TLS keyfile " + (dir.path() / "nope.key").string() + ": no such file") !=
              std::string::npos);
    }
    SECTION("good settings") {
        auto host = host_process(config("host.key"));
        REQUIRE(host.wait_output("distribution: node " + alive, Deadline(20s)));
        INFO(host.output());
        CHECK(host.output().find("TLS: certificate CN=host") != std::string::npos);
        const std::string name = alive + "@" + short_host();
        auto optfile = write_erl_optfile(dir.path(), "beam", beam, ca.cert);
        ErlNode erl({"-proto_dist", "inet_tls", "-ssl_dist_optfile", optfile.string(), "-sname", unique_alive("binbeam"),
                     "-setcookie", cookie, "-noshell", "-eval",
                     "io:format(\"PING ~p~n\", [net_adm:ping('" + name + "')]), halt()."});
        std::string out = erl.wait_exit(Deadline(30s));
        INFO(out);
        CHECK(out.find("PING pong") != std::string::npos);
        host.terminate();
        CHECK(host.wait_exit(Deadline(20s)) == 0);
    }
}
