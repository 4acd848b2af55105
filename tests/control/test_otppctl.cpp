// otppctl end to end: a real otpp-host with its control socket, the real
// otppctl binary, tables and JSON, exit codes, the console fed on stdin.
#include <catch2/catch.hpp>

#include <atomic>

#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Run {
    int code = -1;
    std::string out, err;
};

// A strict JSON checker (RFC 8259 grammar): otppctl --json must be parseable.
class JsonCheck {
public:
    explicit JsonCheck(const std::string& s) : s_(s) {}
    bool ok() {
        ws();
        if (!value()) return false;
        ws();
        return i_ == s_.size();
    }

private:
    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
    }
    bool lit(const char* w) {
        std::size_t n = std::char_traits<char>::length(w);
        if (s_.compare(i_, n, w) != 0) return false;
        i_ += n;
        return true;
    }
    bool string() {
        if (i_ >= s_.size() || s_[i_] != '"') return false;
        ++i_;
        while (i_ < s_.size() && s_[i_] != '"') {
            unsigned char c = static_cast<unsigned char>(s_[i_]);
            if (c < 0x20) return false;
            if (c == '\\') {
                ++i_;
                if (i_ >= s_.size()) return false;
                char e = s_[i_];
                if (e == 'u') {
                    for (int k = 0; k < 4; ++k)
                        if (++i_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i_]))) return false;
                } else if (!std::strchr("\"\\/bfnrt", e)) {
                    return false;
                }
            }
            ++i_;
        }
        if (i_ >= s_.size()) return false;
        ++i_;
        return true;
    }
    bool number() {
        std::size_t start = i_;
        if (i_ < s_.size() && s_[i_] == '-') ++i_;
        if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_]))) return false;
        if (s_[i_] == '0') ++i_;
        else while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
        if (i_ < s_.size() && s_[i_] == '.') {
            ++i_;
            if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_]))) return false;
            while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
        }
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            ++i_;
            if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
            if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_]))) return false;
            while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
        }
        return i_ > start;
    }
    bool value() {
        ws();
        if (i_ >= s_.size()) return false;
        char c = s_[i_];
        if (c == '{') {
            ++i_;
            ws();
            if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
            for (;;) {
                ws();
                if (!string()) return false;
                ws();
                if (i_ >= s_.size() || s_[i_++] != ':') return false;
                if (!value()) return false;
                ws();
                if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
                if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
                return false;
            }
        }
        if (c == '[') {
            ++i_;
            ws();
            if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
            for (;;) {
                if (!value()) return false;
                ws();
                if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
                if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
                return false;
            }
        }
        if (c == '"') return string();
        if (lit("true") || lit("false") || lit("null")) return true;
        return number();
    }
    const std::string& s_;
    std::size_t i_ = 0;
};

bool valid_json(const std::string& s) { return JsonCheck(s).ok(); }

struct Host {
    pid_t pid = -1;
    fs::path dir;
    fs::path socket;

    explicit Host(const std::string& apps, const std::string& extra_plugin_dir = "") {
        static int n = 0;
        dir = fs::temp_directory_path() / ("otppctl-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(dir);
        fs::create_directories(dir);
        std::string dirs = "\"" OTPP_PLUGIN_DIR "\"";
        if (!extra_plugin_dir.empty()) dirs += ", \"" + extra_plugin_dir + "\"";
        std::ofstream(dir / "host.toml") << "[node]\nname = \"ctl@localhost\"\nschedulers = 2\n\n"
                                         << "[code]\nplugin_dirs = [" << dirs << "]\nprivate_dir = \"private\"\n\n"
                                         << "[control]\nruntime_dir = \"run\"\n\n"
                                         << "[log]\nlevel = \"info\"\nsink = \"file:host.log\"\n\n"
                                         << apps;
        socket = dir / "run" / "ctl@localhost.sock";
        pid = fork();
        if (pid == 0) {
            std::freopen((dir / "stderr.txt").c_str(), "w", stderr);
            execl(OTPP_HOST_BINARY, OTPP_HOST_BINARY, "--config", (dir / "host.toml").c_str(), nullptr);
            _exit(127);
        }
        REQUIRE(wait_log("control socket"));
    }
    ~Host() {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::string log() const { return read_file(dir / "host.log"); }
    bool wait_log(const std::string& needle, std::chrono::seconds limit = 60s) const {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (log().find(needle) != std::string::npos) return true;
            std::this_thread::sleep_for(20ms);
        }
        return false;
    }
    int stop() {
        kill(pid, SIGTERM);
        int status = 0;
        auto deadline = std::chrono::steady_clock::now() + 60s;
        while (std::chrono::steady_clock::now() < deadline) {
            if (waitpid(pid, &status, WNOHANG) == pid) {
                pid = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(20ms);
        }
        return -1;
    }

    // otppctl ARGS (with --socket unless `with_socket` is false), stdin from `input`.
    Run ctl(std::vector<std::string> args, const std::string& input = "", bool with_socket = true,
            const std::vector<std::string>& env = {}) const {
        static std::atomic<int> counter{0};  // tests run otppctl from several threads
        const int k = counter++;
        const fs::path in = dir / ("in" + std::to_string(k)), out = dir / ("out" + std::to_string(k)),
                       err = dir / ("err" + std::to_string(k));
        std::ofstream(in) << input;
        if (with_socket) args.insert(args.begin(), {"--socket", socket.string()});
        pid_t child = fork();
        if (child == 0) {
            int fi = ::open(in.c_str(), O_RDONLY), fo = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600),
                fe = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            ::dup2(fi, 0);
            ::dup2(fo, 1);
            ::dup2(fe, 2);
            ::unsetenv("OTPP_CONTROL_SOCKET");
            for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
            std::vector<char*> argv{const_cast<char*>(OTPPCTL_BINARY)};
            for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            ::execv(OTPPCTL_BINARY, argv.data());
            ::_exit(127);
        }
        int status = 0;
        ::waitpid(child, &status, 0);
        Run r;
        r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        r.out = read_file(out);
        r.err = read_file(err);
        return r;
    }
};

const char* demo_app = R"(
[[application]]
name = "demo"
  [application.supervisor]
  intensity = 10
  [[application.supervisor.children]]
  id = "counter"
  module = "counter"
  args = "41"
  [[application.supervisor.children]]
  id = "store"
  module = "kv"
  args = "#{answer => 42}"
)";

// The pid of the first `ps --json` row whose module is `module`.
std::string pid_of(const Host& h, const std::string& module) {
    Run r = h.ctl({"--json", "ps"});
    REQUIRE(r.code == 0);
    std::smatch m;
    // Keys come sorted: module, name, pid are neighbours.
    std::regex row("\"module\":\"" + module + "\",\"name\":[^,]*,\"pid\":\"(<[0-9.]+>)\"");
    REQUIRE(std::regex_search(r.out, m, row));
    return m[1];
}

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("otppctl ps: a table and JSON", "[control][otppctl]") {
    Host h(demo_app);
    Run t = h.ctl({"ps"});
    CHECK(t.code == 0);
    CHECK(has(t.out, "PID"));
    CHECK(has(t.out, "MODULE"));
    CHECK(has(t.out, "REDUCTIONS"));
    CHECK(has(t.out, "counter@1.0.0"));
    CHECK(has(t.out, "kv@1.0.0"));
    CHECK(has(t.out, "demo"));  // the top supervisor's registered name
    Run j = h.ctl({"--json", "ps"});
    CHECK(j.code == 0);
    CHECK(valid_json(j.out));
    CHECK(has(j.out, "\"module\":\"counter\",\"name\":null,\"pid\":\"<0."));
    CHECK(has(j.out, "\"version\":\"1.0.0\""));
}

TEST_CASE("otppctl finds the host by --socket, --dir/--node and OTPP_CONTROL_SOCKET", "[control][otppctl]") {
    Host h(demo_app);
    CHECK(h.ctl({"--dir", (h.dir / "run").string(), "--node", "ctl@localhost", "stats"}, "", false).code == 0);
    Run env = h.ctl({"stats"}, "", false, {"OTPP_CONTROL_SOCKET=" + h.socket.string()});
    CHECK(env.code == 0);
    CHECK(has(env.out, "ctl@localhost"));
    Run none = h.ctl({"stats"}, "", false);
    CHECK(none.code == 2);
    CHECK(has(none.err, "--socket"));
    Run missing = h.ctl({"--socket", (h.dir / "nope.sock").string(), "stats"}, "", false);
    CHECK(missing.code == 3);
    CHECK(has(missing.err, "cannot connect"));
}

TEST_CASE("otppctl exit codes: usage 2, command failed 1, and errors in JSON", "[control][otppctl]") {
    Host h(demo_app);
    CHECK(h.ctl({"frobnicate"}).code == 2);
    CHECK(h.ctl({"call", "demo"}).code == 2);                 // missing TERM
    CHECK(h.ctl({"call", "demo", "{unclosed"}).code == 2);    // not a term
    CHECK(h.ctl({"top", "--interval", "soon"}).code == 2);
    CHECK(h.ctl({"ps", "--bogus"}).code == 2);
    Run fail = h.ctl({"info", "nobody_is_called_this"});
    CHECK(fail.code == 1);
    CHECK(has(fail.err, "no process is registered as nobody_is_called_this"));
    Run jf = h.ctl({"--json", "info", "nobody_is_called_this"});
    CHECK(jf.code == 1);
    CHECK(valid_json(jf.out));
    CHECK(has(jf.out, "\"error\":"));
    // A usage error is found before connecting: 2 even with no host.
    CHECK(h.ctl({"--socket", "/nonexistent.sock", "call", "x"}, "", false).code == 2);
}

TEST_CASE("otppctl info, call, cast, send on the counter", "[control][otppctl]") {
    Host h(demo_app);
    const std::string counter = pid_of(h, "counter");
    Run info = h.ctl({"info", counter});
    CHECK(info.code == 0);
    CHECK(has(info.out, "counter@1.0.0"));
    CHECK(has(info.out, "backtrace:"));
    CHECK(has(info.out, "state:"));
    CHECK(has(info.out, "value => 41"));
    Run ji = h.ctl({"--json", "info", counter});
    CHECK(valid_json(ji.out));
    CHECK(has(ji.out, "\"value\":41"));

    Run get = h.ctl({"call", counter, "get"});
    CHECK(get.code == 0);
    CHECK(get.out == "41\n");
    CHECK(h.ctl({"call", counter, "{add, 1}", "--timeout", "3000"}).out == "42\n");
    CHECK(h.ctl({"cast", counter, "{add, 8}"}).code == 0);
    CHECK(h.ctl({"send", counter, "{hello, <<\"from otppctl\">>}"}).code == 0);
    // An atom the node has never seen is refused: a client cannot fill the atom table.
    Run unknown = h.ctl({"send", counter, "never_seen_atom_from_otppctl"});
    CHECK(unknown.code == 1);
    CHECK(has(unknown.err, "unknown atom 'never_seen_atom_from_otppctl'"));
    CHECK(h.ctl({"--json", "call", counter, "get"}).out == "50\n");
    Run slow = h.ctl({"call", counter, "{sleep, 2000}", "--timeout", "100"});
    CHECK(slow.code == 1);
    CHECK(has(slow.err, "timeout"));
}

TEST_CASE("otppctl kill and exit, tree shows the restarted child", "[control][otppctl]") {
    Host h(demo_app);
    const std::string counter = pid_of(h, "counter");
    Run k = h.ctl({"kill", counter});
    CHECK(k.code == 0);
    CHECK(has(k.out, "killed"));
    std::string again;
    for (int i = 0; i < 100; ++i) {  // the supervisor restarts it
        again = pid_of(h, "counter");
        if (again != counter) break;
        std::this_thread::sleep_for(50ms);
    }
    CHECK(again != counter);
    Run tree = h.ctl({"tree"});
    CHECK(tree.code == 0);
    CHECK(has(tree.out, "demo  <0."));
    CHECK(has(tree.out, "counter  " + again + "  worker  [counter]"));
    CHECK(has(tree.out, "store  <0."));
    Run jt = h.ctl({"--json", "tree"});
    CHECK(valid_json(jt.out));
    CHECK(has(jt.out, "\"id\":\"counter\""));

    const std::string store = pid_of(h, "kv");
    CHECK(h.ctl({"exit", store, "{shutdown, <<\"operator\">>}"}).code == 0);
    CHECK(h.wait_log("operator"));  // the supervisor reports the child's exit
    CHECK(h.ctl({"kill", counter}).code == 1);  // already dead
}

TEST_CASE("otppctl top, stats and log-level", "[control][otppctl]") {
    Host h(demo_app);
    const std::string counter = pid_of(h, "counter");
    // Keep the counter busy while top samples, so it comes first.
    std::thread busy([&] {
        for (int i = 0; i < 30; ++i) h.ctl({"call", counter, "{add, 1}"});
    });
    Run top = h.ctl({"top", "--interval", "1500ms", "-n", "3"});
    busy.join();
    CHECK(top.code == 0);
    CHECK(has(top.out, "REDS"));
    CHECK(has(top.out, "counter@1.0.0"));
    Run jtop = h.ctl({"--json", "top", "--interval", "100ms", "-n", "2"});
    CHECK(jtop.code == 0);
    CHECK(valid_json(jtop.out));
    CHECK(has(jtop.out, "\"reductions_delta\":"));

    Run stats = h.ctl({"stats"});
    CHECK(stats.code == 0);
    CHECK(has(stats.out, "schedulers             2"));
    CHECK(has(stats.out, "process_count"));
    CHECK(has(stats.out, "loaded_libraries"));
    CHECK(valid_json(h.ctl({"--json", "stats"}).out));

    CHECK(h.ctl({"log-level"}).out == "info\n");
    CHECK(h.ctl({"log-level", "debug"}).out == "debug\n");
    CHECK(h.ctl({"log-level"}).out == "debug\n");
    CHECK(h.ctl({"log-level", "chatty"}).code == 1);
}

TEST_CASE("otppctl modules, upgrade, load, soft-purge and purge", "[control][otppctl][code]") {
    Host h(demo_app);
    const std::string v2 = OTPP_VERSIONS_DIR "/counter-2.0.0.so", v3 = OTPP_VERSIONS_DIR "/counter-3.0.0.so";
    Run mods = h.ctl({"modules"});
    CHECK(mods.code == 0);
    CHECK(std::regex_search(mods.out, std::regex("counter +1\\.0\\.0 +1 +- +-")));
    CHECK(valid_json(h.ctl({"--json", "modules"}).out));

    const std::string counter = pid_of(h, "counter");
    Run wrong = h.ctl({"upgrade", "kv", v2});
    CHECK(wrong.code == 1);
    CHECK(has(wrong.err, "holds module counter, not kv"));

    Run dry = h.ctl({"upgrade", "counter", v2, "--dry-run"});
    CHECK(dry.code == 0);
    CHECK(has(dry.out, "dry_run counter"));
    CHECK(h.ctl({"call", counter, "get"}).out == "41\n");
    CHECK(std::regex_search(h.ctl({"modules"}).out, std::regex("counter +1\\.0\\.0")));

    Run up = h.ctl({"--json", "upgrade", "counter", v2, "--mode", "atomic", "--timeout", "5000"});
    CHECK(up.code == 0);
    CHECK(valid_json(up.out));
    CHECK(has(up.out, "\"outcome\":\"upgraded\""));
    CHECK(has(up.out, "\"migrated\":[\"" + counter + "\"]"));
    CHECK(h.ctl({"call", counter, "get"}).out == "41\n");  // the state survived the upgrade
    CHECK(std::regex_search(h.ctl({"modules"}).out, std::regex("counter +2\\.0\\.0")));

    Run load = h.ctl({"load", v3});
    CHECK(load.code == 0);
    CHECK(has(load.out, "loaded counter@3.0.0"));
    // The counter process still runs 2.0.0, now old: a soft purge refuses.
    Run soft = h.ctl({"soft-purge", "counter"});
    CHECK(soft.code == 1);
    CHECK(has(soft.err, counter));
    Run purge = h.ctl({"purge", "counter"});
    CHECK(purge.code == 0);
    CHECK(has(purge.out, "purged version 2.0.0"));
    CHECK(has(purge.out, counter));
    Run nothing = h.ctl({"purge", "counter"});
    CHECK(nothing.code == 0);
    CHECK(has(nothing.out, "no old version"));
    CHECK(h.ctl({"load", "/nonexistent/plugin.so"}).code == 1);

    // A library that could never be unloaded: refused, unless the operator insists.
    Run refused = h.ctl({"load", OTPP_GNU_UNIQUE_PLUGIN});
    CHECK(refused.code == 1);
    CHECK(has(refused.err, "STB_GNU_UNIQUE"));
    Run insisted = h.ctl({"load", OTPP_GNU_UNIQUE_PLUGIN, "--unpurgeable"});
    CHECK(insisted.code == 0);
    CHECK(has(insisted.out, "loaded gnu_unique@1.0.0"));
}

TEST_CASE("otppctl upgrade --plan: checked by a dry run, then run", "[control][otppctl][code]") {
    Host h(demo_app);
    const std::string counter = pid_of(h, "counter");
    std::ofstream(h.dir / "plan.toml") << "mode = \"atomic\"\n\n[[upgrade]]\nmodule = \"counter\"\nfile = \""
                                       << OTPP_VERSIONS_DIR "/counter-2.0.0.so\"\n";
    Run dry = h.ctl({"upgrade", "--plan", (h.dir / "plan.toml").string(), "--dry-run"});
    CHECK(dry.code == 0);
    CHECK(has(dry.out, "plan checked"));
    CHECK(std::regex_search(h.ctl({"modules"}).out, std::regex("counter +1\\.0\\.0")));
    Run run = h.ctl({"--json", "upgrade", "--plan", (h.dir / "plan.toml").string()});
    CHECK(run.code == 0);
    CHECK(valid_json(run.out));
    CHECK(has(run.out, "\"ok\":true"));
    CHECK(std::regex_search(h.ctl({"modules"}).out, std::regex("counter +2\\.0\\.0")));
    CHECK(h.ctl({"call", counter, "get"}).out == "41\n");
    Run bad = h.ctl({"upgrade", "--plan", (h.dir / "missing.toml").string()});
    CHECK(bad.code == 1);
    CHECK(h.ctl({"upgrade", "--plan"}).code == 2);
}

TEST_CASE("otppctl console: commands from stdin, one per line", "[control][otppctl][console]") {
    Host h(demo_app);
    const std::string counter = pid_of(h, "counter");
    Run ok = h.ctl({"console"}, "ps\n\n# a comment\ncall " + counter + " get\nlog-level\ntree\nquit\nstats\n");
    CHECK(ok.code == 0);
    CHECK(has(ok.out, "counter@1.0.0"));
    CHECK(has(ok.out, "41\n"));
    CHECK(has(ok.out, "info\n"));
    CHECK(has(ok.out, "demo  <0."));
    CHECK_FALSE(has(ok.out, "schedulers"));  // after quit
    Run failing = h.ctl({"console"}, "info nobody_here\nps\n");
    CHECK(failing.code == 1);
    CHECK(has(failing.err, "no process is registered"));
    CHECK(has(failing.out, "PID"));
    Run json = h.ctl({"--json", "console"}, "call " + counter + " get\nstats\n");
    CHECK(json.code == 0);
    CHECK(has(json.out, "41\n{"));
}

TEST_CASE("otpp-host: a second host of the same name refuses to start, the socket goes with the host",
          "[control][otppctl]") {
    Host h(demo_app);
    // Same runtime_dir, same node name.
    std::ofstream(h.dir / "second.toml") << "[node]\nname = \"ctl@localhost\"\n[control]\nruntime_dir = \"run\"\n"
                                         << "[log]\nsink = \"file:second.log\"\n";
    pid_t second = fork();
    if (second == 0) {
        std::freopen((h.dir / "second.err").c_str(), "w", stderr);
        execl(OTPP_HOST_BINARY, OTPP_HOST_BINARY, "--config", (h.dir / "second.toml").c_str(), nullptr);
        _exit(127);
    }
    int status = 0;
    waitpid(second, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    CHECK(has(read_file(h.dir / "second.log"), "another host is serving"));
    CHECK(h.ctl({"stats"}).code == 0);  // the first one is untouched
    CHECK(h.stop() == 0);
    CHECK_FALSE(fs::exists(h.socket));
}

TEST_CASE("otppctl info: the backtrace of a plugin process spinning in a callback names the plugin's function",
          "[control][otppctl][backtrace]") {
    // A copy of the spinner plugin in a directory of its own.
    fs::path extra = fs::temp_directory_path() / ("otppctl-spinner-" + std::to_string(::getpid()));
    fs::create_directories(extra);
    fs::copy_file(OTPP_SPINNER_PLUGIN, extra / "spinner.so", fs::copy_options::overwrite_existing);
    {
        Host h(std::string(demo_app) + R"(
[[application]]
name = "spinning"
  [application.supervisor]
  [[application.supervisor.children]]
  id = "spinner"
  module = "spinner"
  shutdown = "brutal_kill"
)", extra.string());
        const std::string spinner = pid_of(h, "spinner");
        REQUIRE(h.ctl({"cast", spinner, "spin"}).code == 0);
        bool named = false;
        std::string last;
        for (int attempt = 0; attempt < 40 && !named; ++attempt) {
            Run info = h.ctl({"info", spinner});
            last = info.out;
            // A frame symbolised from the plugin's private copy (hidden symbols: .symtab).
            std::regex frame("#[0-9]+ +[^\\n]*(loop_forever|Spinner)[^\\n]*\\+0x[0-9a-f]+ +\\([^)]*spinner[^)]*\\)");
            named = std::regex_search(info.out, frame);
            if (!named) std::this_thread::sleep_for(50ms);
        }
        INFO(last);
        CHECK(named);
        CHECK(has(last, "handle_cast"));  // the current callback
    }
    std::error_code ec;
    fs::remove_all(extra, ec);
}
