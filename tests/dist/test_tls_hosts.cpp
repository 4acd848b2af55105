// otpp to otpp over TLS with two real nodes: this test process is one
// (a Runtime with TLS distribution), an otpp-host child process the other.
// Each connects to the other (the host through `otppctl connect`); a plain
// otpp-host and the TLS node cannot connect either way.
#include <catch2/catch.hpp>

#include "dist_peer.hpp"
#include "tls_test_pki.hpp"

#include <distribution.hpp>

#include "../../host/runtime/kernel.hpp"

#include <otpp/gen_server.hpp>
#include <otpp/node.hpp>
#include <otpp/process.hpp>
#include <otpp/runtime.hpp>
#include <otpp/scoped_process.hpp>

#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>


using namespace otpp;
using namespace otpp::dist;
using namespace otpp::dist::test;
namespace fs = std::filesystem;

namespace {

// An otpp-host with distribution (TLS with `tls`), its control socket in dir.
struct OtppHost {
    std::string alive, name;
    fs::path socket;
    std::unique_ptr<ChildProcess> process;

    OtppHost(const fs::path& dir, const std::string& tag, const std::string& cookie, const CertFiles* tls,
             const fs::path& cacert) {
        alive = unique_alive(tag);
        name = alive + "@" + short_host();
        fs::create_directories(dir / tag);
        std::ofstream config(dir / tag / "host.toml");
        config << "[node]\nname = \"" << name << "\"\n"
               << "[control]\nruntime_dir = \"run\"\n"
               << "[distribution]\nenabled = true\ncookie = \"" << cookie << "\"\n";
        if (tls)
            config << "tls = true\ncertfile = \"" << tls->cert.string() << "\"\nkeyfile = \"" << tls->key.string()
                   << "\"\ncacertfile = \"" << cacert.string() << "\"\n";
        config.close();
        socket = dir / tag / "run" / (name + ".sock");
        process = std::make_unique<ChildProcess>(std::vector<std::string>{OTPP_HOST_BINARY, "--config", (dir / tag / "host.toml").string()},
                                          dir / tag / "out.txt");
        if (!process->wait_output("control socket", Deadline(20s)))
            throw std::runtime_error("otpp-host did not start:\n" + process->output());
    }
    ~OtppHost() {
        process->terminate();
        process->wait_exit(Deadline(10s));
    }
    // otppctl --socket S connect NODE: its exit status.
    int connect(const std::string& node, const fs::path& out) const {
        ChildProcess ctl({OTPPCTL_BINARY, "--socket", socket.string(), "connect", node}, out);
        return ctl.wait_exit(Deadline(30s));
    }
};

// The test process as a TLS node.
struct LocalTlsNode {
    Runtime runtime{RuntimeOptions{.schedulers = 2}};
    std::unique_ptr<Distribution> dist;
    std::string name;
    LocalTlsNode(const std::string& cookie, const CertFiles& cert, const fs::path& cacert) {
        LogCapture::get();
        DistributionOptions o;
        o.name = unique_alive("tlslocal");
        o.cookie = cookie;
        o.connect_timeout = std::chrono::seconds(3);
        o.tls = TlsOptions{cert.cert, cert.key, cacert};
        dist = std::make_unique<Distribution>(runtime.kernel(), o);
        dist->start();
        name = std::string(dist->node_name().name());
    }
    ~LocalTlsNode() { dist->stop(); }
};

// net_adm:ping/1: {is_auth, Node} to net_kernel there.
bool ping(Atom node) {
    auto r = gen_server::try_call(gen_server::NameOnNode{Atom("net_kernel"), node},
                                  Term::tuple({Atom("is_auth"), otpp::node()}), std::chrono::seconds(5));
    return r.ok && r.value == Term(Atom("yes"));
}

}  // namespace

TEST_CASE("TLS: two otpp nodes (this process and an otpp-host) connect to each other over TLS, a plain otpp-host "
          "cannot, either way",
          "[dist][tls][hosts]") {
    TempDir dir;
    CertFiles ca = make_ca(dir.path(), "ca");
    CertFiles local_cert = make_node_cert(dir.path(), "local", ca, {.hosts = local_hosts()});
    CertFiles host_cert = make_node_cert(dir.path(), "host", ca, {.hosts = local_hosts()});
    const std::string cookie = "HOSTSCOOKIE" + std::to_string(::getpid());

    OtppHost tls_host(dir.path(), "tlshost", cookie, &host_cert, ca.cert);
    OtppHost plain_host(dir.path(), "plainhost", cookie, nullptr, {});
    LocalTlsNode local(cookie, local_cert, ca.cert);
    ScopedProcess me;
    monitor_nodes(true);

    // This node connects to the otpp-host: ping, both ways over one connection.
    Atom host(tls_host.name);
    REQUIRE(connect_node(host));
    CHECK(receive(std::chrono::seconds(5)) == Term(Term::tuple({Atom("nodeup"), host})));
    CHECK(ping(host));
    INFO(LogCapture::get().lines_with({tls_host.alive}).size());
    CHECK(!LogCapture::get().lines_with({"connected to " + tls_host.name, "TLSv1.3", "CN=host"}).empty());
    REQUIRE(disconnect_node(host));
    CHECK(receive(std::chrono::seconds(5)) == Term(Term::tuple({Atom("nodedown"), host})));

    // The otpp-host connects to this node.
    CHECK(tls_host.connect(local.name, dir.path() / "ctl1.txt") == 0);
    CHECK(receive(std::chrono::seconds(5)) == Term(Term::tuple({Atom("nodeup"), host})));
    CHECK(ping(host));
    CHECK(!LogCapture::get().lines_with({"connected to " + tls_host.name, "TLSv1.3", "CN=host"}).empty());
    CHECK(tls_host.process->output().find("connected to " + local.name) != std::string::npos);

    // A plain otpp-host: refused by this node; and this node cannot reach it.
    CHECK(plain_host.connect(local.name, dir.path() / "ctl2.txt") == 1);
    CHECK(LogCapture::get().wait_for({"refused a connection from 127.0.0.1:", "does not speak TLS"}, Deadline(5s)));
    CHECK_FALSE(connect_node(Atom(plain_host.name)));
    std::vector<Atom> now = nodes();
    CHECK(now == std::vector<Atom>{host});
}
