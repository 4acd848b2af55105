// otpp-host end to end: a real binary, a real config, real plugins.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct Host {
    pid_t pid = -1;
    fs::path dir;
    fs::path log;

    explicit Host(const std::string& config_body) {
        dir = fs::temp_directory_path() / ("otpp-host-test-" + std::to_string(::getpid()) + "-" +
                                           std::to_string(counter()++));
        fs::create_directories(dir);
        log = dir / "host.log";
        std::ofstream(dir / "host.toml") << config_body;
        fs::path out = dir / "stderr.txt";
        pid = fork();
        if (pid == 0) {
            std::freopen(out.c_str(), "w", stderr);
            execl(OTPP_HOST_BINARY, OTPP_HOST_BINARY, "--config", (dir / "host.toml").c_str(), nullptr);
            _exit(127);
        }
    }
    ~Host() {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    static int& counter() {
        static int n = 0;
        return n;
    }
    std::string read(const fs::path& p) const {
        std::ifstream in(p);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    std::string log_text() const { return read(log); }
    std::string stderr_text() const { return read(dir / "stderr.txt"); }
    bool wait_log(const std::string& needle, std::chrono::seconds limit = 30s) const {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (log_text().find(needle) != std::string::npos) return true;
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }
    int wait_exit(std::chrono::seconds limit = 30s) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        int status = 0;
        while (std::chrono::steady_clock::now() < deadline) {
            pid_t r = waitpid(pid, &status, WNOHANG);
            if (r == pid) {
                pid = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(10ms);
        }
        return -1;
    }
};

// private_dir: the test's own ("private", beside the config) unless given.
std::string config(const std::string& apps, const std::string& log_file, const fs::path& private_dir = "private") {
    return "[node]\nname = \"test@localhost\"\nschedulers = 2\n\n"
           "[code]\nplugin_dirs = [\"" OTPP_PLUGIN_DIR "\"]\nprivate_dir = \"" + private_dir.string() + "\"\n\n"
           // The control socket in the test's own directory: tests run in
           // parallel, and a node name can be served only once per directory.
           "[control]\nruntime_dir = \"run\"\n\n"
           "[log]\nlevel = \"info\"\nsink = \"file:" + log_file + "\"\n\n" + apps;
}

const char* counter_app = R"(
[[application]]
name = "demo"
  [application.supervisor]
  strategy = "one_for_one"
  [[application.supervisor.children]]
  id = "counter"
  module = "counter"
  args = "41"
  [[application.supervisor.children]]
  id = "store"
  module = "kv"
  args = "#{answer => 42}"
)";

}  // namespace

TEST_CASE("otpp-host starts the applications and stops cleanly on SIGTERM", "[host]") {
    Host host(config(counter_app, "host.log"));
    REQUIRE(host.wait_log("application demo started"));
    kill(host.pid, SIGTERM);
    CHECK(host.wait_exit() == 0);
    std::string log = host.log_text();
    CHECK(log.find("loaded counter@1.0.0") != std::string::npos);
    CHECK(log.find("loaded kv@1.0.0") != std::string::npos);
    CHECK(log.find("application demo stopped") != std::string::npos);
    CHECK_FALSE(fs::exists(host.dir / "private"));  // its plugin copies went with it
}

TEST_CASE("otpp-host: the plugin copies a killed host left are deleted by the next host", "[host]") {
    const fs::path shared = fs::temp_directory_path() / ("otpp-host-private-" + std::to_string(::getpid()));
    fs::remove_all(shared);
    auto copies = [&] {
        std::size_t n = 0;
        std::error_code ec;
        for (fs::directory_iterator it(shared, ec), end; !ec && it != end; it.increment(ec))
            n += it->path().extension() == ".so";
        return n;
    };
    {
        Host killed(config(counter_app, "host.log", shared));
        REQUIRE(killed.wait_log("application demo started"));
        kill(killed.pid, SIGKILL);
        killed.wait_exit();
    }
    const std::size_t left = copies();  // one per plugin it found and loaded
    CHECK(left >= 2);                    // counter and kv at least
    Host next(config(counter_app, "host.log", shared));
    REQUIRE(next.wait_log("application demo started"));
    CHECK(next.log_text().find("deleted " + std::to_string(left) + " stale plugin copies from " + shared.string()) !=
          std::string::npos);
    CHECK(copies() == left);  // its own
    kill(next.pid, SIGTERM);
    CHECK(next.wait_exit() == 0);
    CHECK_FALSE(fs::exists(shared));  // the killed host made it, and its lock file says so
    fs::remove_all(shared);
}

TEST_CASE("otpp-host refuses a bad config with file, line and key, and starts nothing", "[host][config]") {
    Host host(config(std::string(counter_app) + "  restart = \"sometimes\"\n", "host.log"));
    CHECK(host.wait_exit() == 2);
    std::string err = host.stderr_text();
    CHECK(err.find("host.toml:") != std::string::npos);
    CHECK(err.find("restart") != std::string::npos);
    CHECK_FALSE(fs::exists(host.log));
}

TEST_CASE("otpp-host refuses to start without the modules its applications need", "[host]") {
    std::string app = R"(
[[application]]
name = "broken"
  [application.supervisor]
  [[application.supervisor.children]]
  id = "x"
  module = "no_such_module"
)";
    Host host(config(app, "host.log"));
    CHECK(host.wait_exit() == 1);
    CHECK(host.log_text().find("no_such_module") != std::string::npos);
}

TEST_CASE("otpp-host: a child failing in init fails the start, reported with its reason", "[host]") {
    std::string app = R"(
[[application]]
name = "bad_ticker"
  [application.supervisor]
  [[application.supervisor.children]]
  id = "t"
  module = "ticker"
  args = "0"
)";
    Host host(config(app, "host.log"));
    CHECK(host.wait_exit() == 1);
    std::string log = host.log_text();
    CHECK(log.find("application bad_ticker failed to start") != std::string::npos);
    CHECK(log.find("bad_interval") != std::string::npos);
}

TEST_CASE("otpp-host with code.watch upgrades a module when its file changes", "[host][watch]") {
    // A plugin directory of its own, starting with counter 1.0.0.
    fs::path plugins = fs::temp_directory_path() / ("otpp-host-watch-" + std::to_string(::getpid()));
    fs::remove_all(plugins);
    fs::create_directories(plugins);
    fs::copy_file(OTPP_COUNTER_V1, plugins / "counter.so");
    std::string body = "[node]\nname = \"watch@localhost\"\nschedulers = 2\n\n"
                       "[code]\nplugin_dirs = [\"" + plugins.string() + "\"]\nwatch = true\n\n"
                       "[control]\nruntime_dir = \"run\"\n\n"
                       "[log]\nlevel = \"info\"\nsink = \"file:host.log\"\n\n"
                       "[[application]]\nname = \"demo\"\n  [application.supervisor]\n  strategy = \"one_for_one\"\n"
                       "  [[application.supervisor.children]]\n  id = \"counter\"\n  module = \"counter\"\n  args = \"7\"\n";
    Host host(body);
    REQUIRE(host.wait_log("application demo started"));
    REQUIRE(host.wait_log("watching 1 plugin directories"));
    // Deployed like a build does it: written beside, renamed into place.
    fs::copy_file(OTPP_COUNTER_V2, plugins / "counter.so.partial");
    fs::rename(plugins / "counter.so.partial", plugins / "counter-2.so");
    CHECK(host.wait_log("upgraded: counter 1.0.0 -> 2.0.0"));
    CHECK(host.log_text().find("migrated 1, failed 0") != std::string::npos);
    kill(host.pid, SIGTERM);
    CHECK(host.wait_exit() == 0);
    fs::remove_all(plugins);
}
