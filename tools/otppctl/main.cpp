// otppctl: the operator's console for an otpp host (docs/CONSOLE.md).
//
//   otppctl [--socket PATH | --dir DIR --node NAME] [--json] COMMAND [ARGS...]
//   otppctl console
#include "cli.hpp"
#include "client.hpp"
#include "console.hpp"

#include <endpoint.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

using namespace otppctl;
namespace fs = std::filesystem;

namespace {

// The host's default [control] runtime_dir (docs/CONFIG.md).
fs::path default_runtime_dir() {
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    if (xdg && *xdg) return fs::path(xdg) / "otpp";
    return fs::path("/tmp") / ("otpp-" + std::to_string(::getuid()));
}

int usage_error(const std::string& msg) {
    std::fprintf(stderr, "otppctl: %s\n(otppctl help for usage)\n", msg.c_str());
    return exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
    std::string socket, dir, node;
    Output output;
    std::vector<std::string> args;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](const char* name) -> const char* {
            if (i + 1 >= argc) return nullptr;
            (void)name;
            return argv[++i];
        };
        if (a == "--socket" || a == "--dir" || a == "--node") {
            const char* v = value(a.c_str());
            if (!v) return usage_error(a + " needs a value");
            (a == "--socket" ? socket : a == "--dir" ? dir : node) = v;
        } else if (a == "--json") {
            output.json = true;
        } else if (a == "--help" || a == "-h" || a == "help") {
            print_usage(stdout);
            return exit_ok;
        } else if (!a.empty() && a[0] == '-') {
            return usage_error("unknown option " + a);
        } else {
            break;
        }
    }
    for (; i < argc; ++i) args.emplace_back(argv[i]);
    // --json may also follow the command.
    for (auto it = args.begin(); it != args.end();) {
        if (*it == "--json") {
            output.json = true;
            it = args.erase(it);
        } else {
            ++it;
        }
    }
    if (args.empty()) {
        print_usage(stderr);
        return exit_usage;
    }

    fs::path path;
    if (!socket.empty()) {
        if (!dir.empty() || !node.empty()) return usage_error("--socket excludes --dir and --node");
        path = socket;
    } else if (!node.empty()) {
        path = (dir.empty() ? default_runtime_dir() : fs::path(dir)) / (node + ".sock");
    } else if (!dir.empty()) {
        return usage_error("--dir needs --node NAME");
    } else if (const char* env = std::getenv("OTPP_CONTROL_SOCKET"); env && *env) {
        path = env;
    } else {
        return usage_error("which host? give --socket PATH, --node NAME [--dir DIR], or set OTPP_CONTROL_SOCKET");
    }

    Connection conn;
    conn.set_socket(path);
    if (args[0] == "console") {
        if (args.size() != 1) return usage_error("console takes no arguments");
        return run_console(conn, output);
    }
    return run_command(conn, args, output);
}
