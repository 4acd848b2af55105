// The host's configuration file (`otpp-host --config host.toml`): the node,
// its schedulers, plugin directories, control socket, log, and the
// applications to start, each a supervision tree. docs/CONFIG.md is the
// reference of every key.
//
// Loading is all-or-nothing: load_host_config returns a fully validated
// HostConfig (every default filled in, every relative path resolved against
// the config file's directory, every plugin directory checked to exist) or
// throws ConfigError. Nothing here starts anything.
#pragma once

#include "supervision_spec.hpp"

#include <otpp/atom.hpp>
#include <otpp/error.hpp>
#include <otpp/term.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otpp::host {

// A configuration error, positioned like a compiler diagnostic:
//   host.toml:12:11: application[1].supervisor.children[0].restart: expected one of permanent, transient, temporary; got "sometimes"
//   host.toml:1:1: node.name is required
//   host.toml:3:8: Error while parsing key-value pair: ...        (TOML syntax: no key)
//   missing.toml: cannot read the file: No such file or directory  (no position)
class ConfigError : public otpp::Error {
public:
    // what() = "file:line:column: key: message" (parts that are 0/empty are left out).
    ConfigError(std::string file, std::size_t line, std::size_t column, std::string key, std::string message);
    // A required key that is absent: what() = "file:line:column: key is required[ reason]".
    static ConfigError missing(std::string file, std::size_t line, std::size_t column, std::string key,
                               std::string reason = {});

    ConfigError(const ConfigError&) = default;
    ConfigError& operator=(const ConfigError&) = default;
    ~ConfigError() override;

    // The config file as named by the caller.
    const std::string& file() const noexcept { return file_; }
    // 1-based; 0 when the error has no position in the file (file not readable).
    std::size_t line() const noexcept { return line_; }
    // 1-based, in Unicode code points (as toml++ counts); 0 when unknown.
    std::size_t column() const noexcept { return column_; }
    // Dotted path of the offending key, e.g. "application[1].supervisor.children[0].restart";
    // empty for TOML syntax errors and I/O errors.
    const std::string& key() const noexcept { return key_; }
    // what() without the position and key.
    const std::string& message() const noexcept { return message_; }

private:
    ConfigError(std::string file, std::size_t line, std::size_t column, std::string key, std::string message,
                std::string what);

    std::string file_;
    std::size_t line_ = 0;
    std::size_t column_ = 0;
    std::string key_;
    std::string message_;
};

// [node]
struct NodeConfig {
    std::string name;                   // "name@host"; required
    unsigned schedulers = 0;            // 0 = one per core; 0..1024
    std::int64_t stuck_after_ms = 20;   // 1..60000
    std::size_t default_stack_kib = 64; // 16..1024, a power of two

    friend bool operator==(const NodeConfig&, const NodeConfig&) = default;
};

// [code]
struct CodeConfig {
    std::vector<std::filesystem::path> plugin_dirs;  // absolute, normalized, existing directories
    std::filesystem::path private_dir;               // absolute; default $TMPDIR (or /tmp) /otpp-<node name>
    bool watch = false;

    friend bool operator==(const CodeConfig&, const CodeConfig&) = default;
};

// [control]
struct ControlConfig {
    std::filesystem::path runtime_dir;  // absolute; default $XDG_RUNTIME_DIR/otpp (or /tmp/otpp-<uid>)
    bool enabled = true;                // serve <runtime_dir>/<node name>.sock
    unsigned max_clients = 16;          // 1..1024 connections at once
    std::int64_t idle_timeout_ms = 600000;  // a connection without a request this long is closed

    friend bool operator==(const ControlConfig&, const ControlConfig&) = default;
};

// [distribution]: this host as a node of an Erlang cluster (docs/DISTRIBUTION.md).
// node.name is then the node's name: "foo" or "foo@host".
struct DistributionConfig {
    bool enabled = false;
    bool long_names = false;             // names = "longnames" (erl -name); default "shortnames" (-sname)
    std::optional<std::string> cookie;   // else $OTPP_COOKIE, else ~/.erlang.cookie
    std::int64_t net_ticktime_s = 60;    // 1..3600
    std::int64_t busy_limit_kib = 1024;  // 1..2097151 (erl's +zdbbl)
    std::int64_t port = 0;               // 0..65535; 0: any free port
    bool hidden = false;
    // TLS distribution, as erl's -proto_dist inet_tls (docs/DISTRIBUTION.md#tls).
    // The files are read when distribution starts, not here.
    bool tls = false;
    std::filesystem::path certfile;      // absolute; required with tls
    std::filesystem::path keyfile;       // absolute; empty: the key is in certfile
    std::filesystem::path cacertfile;    // absolute; required with tls and verify = "verify_peer"
    bool verify_peer = true;             // verify = "verify_peer" (default) | "verify_none"
    bool fail_if_no_peer_cert = true;
    bool verify_hostname = true;

    friend bool operator==(const DistributionConfig&, const DistributionConfig&) = default;
};

// [log]
struct LogConfig {
    std::string level = "info";  // trace, debug, info, warn, error, critical, off
    // "stderr", "stdout" or "file:<absolute path>" (a relative path in the file
    // has been resolved against the config file's directory).
    std::string sink = "stderr";

    friend bool operator==(const LogConfig&, const LogConfig&) = default;
};

struct SupervisorSpec;

struct ChildSpec {
    otpp::Atom id;
    otpp::Atom module;
    otpp::Term args;  // default [] (the TOML string "[]")
    Restart restart = Restart::permanent;
    Shutdown shutdown;  // default: 5000 ms for workers, infinity for supervisors
    ChildType type = ChildType::worker;
    // Registered under this name while it runs (OTP's {local, Name}).
    std::optional<otpp::Atom> name;
    // Set if and only if type == ChildType::supervisor. Shared and immutable,
    // so that specs (and whole HostConfigs) copy cheaply.
    std::shared_ptr<const SupervisorSpec> supervisor;

    // Deep: compares the nested supervisor specs, not the pointers.
    friend bool operator==(const ChildSpec& a, const ChildSpec& b);
};

struct SupervisorSpec {
    Strategy strategy = Strategy::one_for_one;
    int intensity = 1;                        // >= 0: at most this many restarts ...
    std::chrono::milliseconds period{5000};   // ... within this period (>= 1 ms)
    // In start order. For simple_one_for_one: exactly one, the template.
    std::vector<ChildSpec> children;

    friend bool operator==(const SupervisorSpec&, const SupervisorSpec&) = default;
};

// [[application]]: started in file order, stopped in reverse.
struct ApplicationSpec {
    otpp::Atom name;
    SupervisorSpec supervisor;  // its top supervisor

    friend bool operator==(const ApplicationSpec&, const ApplicationSpec&) = default;
};

struct HostConfig {
    NodeConfig node;
    CodeConfig code;
    ControlConfig control;
    DistributionConfig distribution;
    LogConfig log;
    std::vector<ApplicationSpec> applications;
    std::filesystem::path source;  // the config file, absolute

    friend bool operator==(const HostConfig&, const HostConfig&) = default;
};

// Limits (also in docs/CONFIG.md).
inline constexpr int max_supervision_depth = 32;  // supervisors on one path, the top one included

// Reads and validates `path`. Relative paths inside resolve against the
// directory of `path`. Throws ConfigError (file as given in `path`).
HostConfig load_host_config(const std::filesystem::path& path);

// The same on text already in memory. `source_name` is used in messages and,
// made absolute against the current directory, as the config file's location
// for resolving relative paths (HostConfig::source).
HostConfig parse_host_config(std::string_view text, std::string source_name);

}  // namespace otpp::host
