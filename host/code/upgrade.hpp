// Upgrading the processes of a module to a new version (Erlang's
// sys:suspend / sys:change_code / sys:resume, driven by the release handler).
//
// upgrade() loads a plugin file as the new version of its module and migrates
// every GenServer process pinned to the version that was current. A process
// migrates in its own fiber, between two callbacks (never in the middle of
// one): the old code turns its state into a term (state_to_term), the new
// code builds its state from that term (code_change), then the old state is
// destroyed by the old code and the process runs the new version. Messages
// that arrive meanwhile wait in its mailbox, in order.
//
// Modes
//   atomic (the default): every process is prepared (suspended, with its new
//     state built alongside the old one); only when all are prepared does any
//     of them switch. If one fails (code_change throws or returns an error, or
//     a process is not prepared before `suspend_timeout`, e.g. because it is
//     stuck in a long callback), every process keeps its old state untouched,
//     on the old version, and the new version is unloaded: nothing changed.
//   rolling: `batch` processes at a time; the new version is current from the
//     start. A process that fails stays on the old version and is listed; the
//     upgrade then ends `partial` and the old version is kept.
//
// Downgrade (direction down, or automatic when both versions are dotted
// numbers and the new one is lower): the running (newer) version turns its
// state into the term the older version expects (its `downgrade` callback,
// by default to_term), and the older version's code_change receives
// {down, NewerVsn}. (OTP calls code_change({down, Vsn}) in the newer code;
// here the newer code does the same job in `downgrade`, because a State can
// only be built by the code that owns its type.)
//
// Processes pinned to the old version that are not GenServers (plain
// processes spawned from plugin code) cannot be migrated: they stay on the
// old version, as in Erlang, and are listed in `stayed`.
//
// Thread-safe; one load, upgrade or purge at a time per host. Blocks the
// caller (a process waits as a process; a plain thread temporarily becomes
// one). Never call it from a process of the module being upgraded.
#pragma once

#include "module_table.hpp"

#include <otpp/term.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace otpp::code {

enum class UpgradeMode { atomic, rolling };
enum class UpgradeDirection { automatic, up, down };

struct UpgradeOptions {
    UpgradeMode mode = UpgradeMode::atomic;
    Term extra = atoms::undefined;             // the third argument of code_change
    UpgradeDirection direction = UpgradeDirection::automatic;
    // atomic: all processes must be prepared within this; rolling: each one.
    std::chrono::milliseconds suspend_timeout{2000};
    std::size_t batch = 1;                     // rolling: processes migrated at once
    // After a complete upgrade the old version has no GenServer left: purge it
    // if nothing at all is pinned to it any more (soft purge).
    bool soft_purge_after = true;
    // Versions this upgrade may start from (empty: any).
    std::vector<std::string> allowed_from;
    // Validate and list what would happen; change nothing.
    bool dry_run = false;
    // Load a library whose ELF keeps it mapped forever (see PluginLibrary).
    bool allow_unpurgeable = false;
};

struct ProcessFailure {
    Pid pid;
    std::string phase;  // "suspend" (not prepared in time), "code_change", "state_to_term", "downgrade"
    Term reason;
};

struct OTPP_API UpgradeReport {
    enum class Outcome { upgraded, partial, rolled_back, refused, dry_run };
    Outcome outcome = Outcome::refused;
    Atom module;
    std::string from_version;   // the version the processes ran ("" if none was loaded)
    std::string to_version;
    UpgradeMode mode = UpgradeMode::atomic;
    bool downgrade = false;
    std::string error;          // why it was refused or rolled back ("" otherwise)

    std::vector<Pid> migrated;
    std::vector<ProcessFailure> failed;
    std::vector<Pid> stayed;    // pinned to the old version but not GenServers
    // The third-version rule: what loading killed (the version that was old before).
    ModuleTable::PurgeReport purged_before;
    // The automatic soft purge of the version left behind, if it happened.
    std::optional<ModuleTable::PurgeReport> purged_after;

    std::chrono::microseconds suspend_max{0};  // longest any process was suspended
    std::chrono::microseconds suspend_p99{0};
    std::chrono::microseconds total{0};

    // {upgrade_report, #{...}}-like term and a few readable lines, for logs,
    // the console and scripts.
    Term to_term() const;
    std::string to_text() const;
};

// upgraded, partial, rolled_back, refused, dry_run.
OTPP_API const char* to_string(UpgradeReport::Outcome outcome) noexcept;

// Loads `file` and migrates the module's processes (see above). Never throws
// for a bad file or a failed migration: the report says what happened (a bad
// file or refused version gives Outcome::refused and nothing changes).
OTPP_API UpgradeReport upgrade(ModuleTable& modules, const std::filesystem::path& file,
                               const UpgradeOptions& options = {});

}  // namespace otpp::code
