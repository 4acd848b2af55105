// Cluster-wide code loading (Erlang's nl/1, as an upgrade): two real
// otpp-host nodes on loopback; `otppctl upgrade MODULE FILE --all-nodes` on
// one upgrades the module here, then ships the file to the other, which
// upgrades it too; one report per node. A failure here ships nothing; a node
// that refuses is named. Every host is killed at the end, whatever happens.
#include <catch2/catch.hpp>

#include "dist_peer.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using otpp::dist::test::unique_alive;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// One otpp-host, distributed, running one counter server.
struct Node {
    std::string alive;
    fs::path dir;
    pid_t pid = -1;

    Node(const fs::path& base, const std::string& cookie) : alive(unique_alive("ship")), dir(base / alive) {
        fs::create_directories(dir / "run");
        fs::permissions(dir / "run", fs::perms::owner_all);
        std::ofstream(dir / "host.toml")
            << "[node]\nname = \"" << alive << "@localhost\"\nschedulers = 2\n"
            << "[code]\nplugin_dirs = [\"" OTPP_PLUGIN_DIR "\"]\nprivate_dir = \"private\"\n"
            << "[control]\nruntime_dir = \"run\"\n"
            << "[distribution]\nenabled = true\ncookie = \"" << cookie << "\"\n"
            << "[log]\nsink = \"file:host.log\"\n"
            << "[[application]]\nname = \"app\"\n[application.supervisor]\nstrategy = \"one_for_one\"\n"
            << "[[application.supervisor.children]]\nid = \"c1\"\nmodule = \"counter\"\nargs = \"0\"\n";
        pid = fork();
        if (pid == 0) {
            std::freopen((dir / "stderr.txt").c_str(), "w", stderr);
            execl(OTPP_HOST_BINARY, OTPP_HOST_BINARY, "--config", (dir / "host.toml").c_str(), nullptr);
            _exit(127);
        }
        auto deadline = std::chrono::steady_clock::now() + 60s;
        while (slurp(dir / "host.log").find("control socket") == std::string::npos) {
            REQUIRE(std::chrono::steady_clock::now() < deadline);
            std::this_thread::sleep_for(20ms);
        }
    }
    ~Node() {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
    }
    std::string name() const { return alive + "@localhost"; }

    // otppctl ARGS against this node: {exit code, stdout}.
    std::pair<int, std::string> ctl(const std::string& args) const {
        const fs::path out = dir / "ctl.out";
        std::string cmd = std::string(OTPPCTL_BINARY) + " --socket " + (dir / "run" / (name() + ".sock")).string() +
                          " " + args + " > " + out.string() + " 2>&1";
        int status = std::system(cmd.c_str());
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out)};
    }
};

}  // namespace

TEST_CASE("upgrade --all-nodes upgrades here, then ships the plugin to every connected otpp node",
          "[dist][cluster]") {
    otpp::dist::test::TempDir base;
    const std::string cookie = "ship" + std::to_string(::getpid());
    Node a(base.path(), cookie), b(base.path(), cookie);

    // Alone: only here.
    auto [alone_code, alone] = a.ctl("upgrade counter " OTPP_VERSIONS_DIR "/counter-1.1.0.so --all-nodes");
    INFO(alone);
    CHECK(alone_code == 0);
    CHECK(alone.find("no other node is connected") != std::string::npos);

    auto [c_code, connected] = a.ctl("connect " + b.name());
    INFO(connected);
    REQUIRE(c_code == 0);
    CHECK(a.ctl("nodes").second.find("connected: " + b.name()) != std::string::npos);

    // Both: a from 1.1.0, b from 1.0.0, each migrates its own server.
    auto [code, out] = a.ctl("upgrade counter " OTPP_VERSIONS_DIR "/counter-2.0.0.so --all-nodes");
    INFO(out);
    CHECK(code == 0);
    CHECK(out.find(a.name() + ": upgraded counter: 1.1.0 -> 2.0.0") != std::string::npos);
    CHECK(out.find(b.name() + ": upgraded counter: 1.0.0 -> 2.0.0") != std::string::npos);
    auto modules = b.ctl("modules").second;
    INFO(modules);
    CHECK(modules.find("counter     2.0.0") != std::string::npos);

    // Refused here (already current): nothing is shipped.
    auto [again_code, again] = a.ctl("upgrade counter " OTPP_VERSIONS_DIR "/counter-2.0.0.so --all-nodes");
    INFO(again);
    CHECK(again_code == 1);
    CHECK(again.find("not shipped to other nodes") != std::string::npos);

    // b already runs 3.0.0 (upgraded alone): there the shipped 3.0.0 is
    // refused, and the report names b.
    REQUIRE(b.ctl("upgrade counter " OTPP_VERSIONS_DIR "/counter-3.0.0.so").first == 0);
    auto [partial_code, partial] = a.ctl("upgrade counter " OTPP_VERSIONS_DIR "/counter-3.0.0.so --all-nodes");
    INFO(partial);
    CHECK(partial_code == 1);
    CHECK(partial.find(a.name() + ": upgraded counter: 2.0.0 -> 3.0.0") != std::string::npos);
    CHECK(partial.find(b.name() + ": refused counter") != std::string::npos);
    CHECK(partial.find("already the current version") != std::string::npos);

    // JSON: one document with every node's report.
    auto [j_code, json] = a.ctl("--json upgrade counter " OTPP_VERSIONS_DIR "/counter-3.0.0.so --all-nodes");
    INFO(json);
    CHECK(j_code == 1);
    CHECK(json.find("\"nodes\"") != std::string::npos);
    CHECK(std::count(json.begin(), json.end(), '\n') == 1);
}
