// otpp-host --config host.toml : one node.
//
// Reads and validates the whole config first (nothing starts on a bad one),
// loads the plugins, starts the applications in order, then waits. SIGTERM or
// SIGINT stops the applications in reverse order — every supervisor stops its
// children in reverse start order, running their terminate callbacks — and
// exits 0. If an application's top supervisor dies, the host stops with 1.
//
// The control socket (docs/CONSOLE.md) is served from once the applications
// run until just before they stop: a console never sees a half-started node.
#include "applications.hpp"
#include "host_config.hpp"
#include "logging.hpp"
#include "plugins.hpp"
#include "../code/plugin_watcher.hpp"
#include "../runtime/kernel.hpp"
#include "../runtime/thread_name.hpp"

#include <distribution.hpp>
#include <node_name.hpp>

#include <backtrace.hpp>
#include <endpoint.hpp>
#include <server.hpp>

#include <otpp/error.hpp>
#include <otpp/process.hpp>
#include <otpp/runtime.hpp>
#include <otpp/scoped_process.hpp>

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <pthread.h>
#include <thread>
#include <unistd.h>

using namespace otpp;

namespace {

int usage(int code) {
    std::fprintf(code ? stderr : stdout,
                 "usage: otpp-host --config FILE [--sname NAME | --name NAME] [--setcookie COOKIE]\n"
                 "  Runs an otpp node as described by FILE (see docs/CONFIG.md).\n"
                 "  --sname/--name make it a distributed node (docs/DISTRIBUTION.md), as erl's\n"
                 "  -sname/-name do; --setcookie sets its cookie.\n");
    return code;
}

// Runs the node until a signal or an application failure; the exit code.
// Everything that may log lives and dies inside, before logging stops.
int run_node(const host::HostConfig& config, sigset_t& signals) {
    int exit_code = 0;
    RuntimeOptions options;
    options.schedulers = config.node.schedulers;
    options.stuck_after = std::chrono::milliseconds(config.node.stuck_after_ms);
    options.default_stack_size = config.node.default_stack_kib * 1024;
    Runtime runtime(options);
    ScopedProcess host_process;
    trap_exit(true);
    spdlog::info("node {} starting ({} schedulers)", config.node.name, runtime.stats().schedulers);

    std::filesystem::path socket;
    if (config.control.enabled) {
        try {
            socket = control::socket_path(config.control.runtime_dir, config.node.name);
            // Before starting anything: two nodes of one name must not both run.
            if (int fd = control::connect_to(socket); fd >= 0) {
                ::close(fd);
                throw Error("another host is serving " + socket.string() +
                            " (a node with this name is already running)");
            }
            control::prepare_runtime_dir(config.control.runtime_dir);
            control::install_backtrace_handler();
        } catch (const std::exception& e) {
            spdlog::critical("control: {}", e.what());
            return 1;
        }
    }

    // Distribution first: applications may use node() and other nodes.
    std::unique_ptr<dist::Distribution> distribution;
    if (config.distribution.enabled) {
        dist::DistributionOptions d;
        d.name = config.node.name;
        d.long_names = config.distribution.long_names;
        d.cookie = config.distribution.cookie;
        d.net_ticktime = std::chrono::seconds(config.distribution.net_ticktime_s);
        d.busy_limit = static_cast<std::size_t>(config.distribution.busy_limit_kib) * 1024;
        d.port = static_cast<std::uint16_t>(config.distribution.port);
        d.hidden = config.distribution.hidden;
        if (config.distribution.tls) {
            dist::TlsOptions tls;
            tls.certfile = config.distribution.certfile;
            tls.keyfile = config.distribution.keyfile;
            tls.cacertfile = config.distribution.cacertfile;
            tls.verify_peer = config.distribution.verify_peer;
            tls.fail_if_no_peer_cert = config.distribution.fail_if_no_peer_cert;
            tls.verify_hostname = config.distribution.verify_hostname;
            d.tls = std::move(tls);
        }
        try {
            distribution = std::make_unique<dist::Distribution>(runtime.kernel(), std::move(d));
            distribution->start();
        } catch (const std::exception& e) {
            spdlog::critical("distribution: {}", e.what());
            return 1;
        }
    }

    host::Applications apps;
    try {
        host::load_plugins(runtime, config);
        apps.start_all(config.applications);
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return 1;
    }

    std::unique_ptr<control::ControlServer> control_server;
    if (config.control.enabled) {
        control::ControlContext context{&runtime, config.node.name, {}};
        for (const auto& app : config.applications) context.applications.push_back(app.name);
        control::ServerOptions server_options;
        server_options.socket_path = socket;
        server_options.max_clients = config.control.max_clients;
        server_options.idle_timeout = std::chrono::milliseconds(config.control.idle_timeout_ms);
        try {
            control_server = std::make_unique<control::ControlServer>(server_options, std::move(context));
            spdlog::info("control socket {}", socket.string());
        } catch (const std::exception& e) {
            spdlog::critical("control: {}", e.what());
            apps.stop_all();
            return 1;
        }
    }

    // The dev loop (docs/UPGRADES.md): upgrade a module when its file changes.
    std::unique_ptr<code::PluginWatcher> watcher;
    if (config.code.watch) {
        try {
            watcher = std::make_unique<code::PluginWatcher>(runtime.kernel().modules(), config.code.plugin_dirs);
            spdlog::info("watching {} plugin directories for new versions", config.code.plugin_dirs.size());
        } catch (const std::exception& e) {
            spdlog::critical("{}", e.what());
            if (control_server) control_server->stop();
            apps.stop_all();
            return 1;
        }
    }

    Pid me = self();
    std::thread signal_thread([&signals, me] {
        runtime::name_this_thread("otpp-signals");
        int sig = 0;
        sigwait(&signals, &sig);
        send(me, Term::tuple({Atom("signal"), static_cast<int64_t>(sig)}));
    });

    for (;;) {
        Term m = receive();
        if (m.is_tuple(2) && m[0].is_atom(Atom("signal"))) {
            spdlog::info("signal {}: stopping", m[1].get<int64_t>());
            break;
        }
        if (m.is_tuple(3) && m[0].is_atom(atoms::EXIT) && m[1].is_pid()) {
            if (const auto* app = apps.find(m[1].get<Pid>())) {
                spdlog::critical("application {} exited: {}; stopping the node", app->name.name(),
                                 m[2].to_string(1000));
                exit_code = 1;
                break;
            }
        }
    }
    if (watcher) watcher->stop();
    if (control_server) control_server->stop();
    apps.stop_all();
    if (distribution) distribution->stop();
    if (exit_code != 0) kill(getpid(), SIGTERM);  // release the signal thread
    signal_thread.join();
    spdlog::info("node {} stopped", config.node.name);
    return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
    const char* config_path = nullptr;
    std::optional<std::pair<dist::NameMode, std::string>> node_name;  // --sname / --name
    std::optional<std::string> cookie;                                // --setcookie
    auto is = [&](int i, const char* a, const char* b) {
        return (std::strcmp(argv[i], a) == 0 || std::strcmp(argv[i], b) == 0) && i + 1 < argc;
    };
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) config_path = argv[++i];
        else if (is(i, "--sname", "-sname")) node_name.emplace(dist::NameMode::shortnames, argv[++i]);
        else if (is(i, "--name", "-name")) node_name.emplace(dist::NameMode::longnames, argv[++i]);
        else if (is(i, "--setcookie", "-setcookie")) cookie = argv[++i];
        else if (std::strcmp(argv[i], "--help") == 0) return usage(0);
        else return usage(2);
    }
    if (!config_path) return usage(2);

    // Signals are taken by one thread with sigwait; every other thread
    // (logging, schedulers, watchdog) inherits the blocked mask, so block
    // them before any thread exists.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    host::HostConfig config;
    try {
        config = host::load_host_config(config_path);
        // The command line wins over the file, as erl's flags do.
        if (node_name) {
            config.distribution.enabled = true;
            config.distribution.long_names = node_name->first == dist::NameMode::longnames;
            config.node.name = node_name->second;
        }
        if (cookie) config.distribution.cookie = *cookie;
        if (config.distribution.enabled) {
            auto mode = config.distribution.long_names ? dist::NameMode::longnames : dist::NameMode::shortnames;
            config.node.name = dist::NodeName::make(mode, config.node.name).full();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "otpp-host: %s\n", e.what());
        return 2;
    }
    try {
        host::setup_logging(config.log.level, config.log.sink);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "otpp-host: %s: %s\n", config_path, e.what());
        return 2;
    }

    int exit_code = run_node(config, signals);
    host::stop_logging();
    return exit_code;
}
