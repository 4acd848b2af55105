// Which versions of each module are loaded: at most two, current and old
// (Erlang's code server rule).
//
// load(file) makes the file the new current version. If an old version
// exists it is purged first: every process still pinned to it is killed
// (reason `killed`), and once none is left its library is unloaded and checked
// to be unmapped. Then current becomes old. Modules compiled into the host
// register once (static_version()) and are never purged.
//
// Thread-safe. load() and purge() block their caller until the old version's
// processes are gone (a process is suspended, a plain thread sleeps); never
// call them from a process pinned to the version being purged.
#pragma once

#include "module_version.hpp"
#include "private_directory.hpp"

#include <otpp/export.hpp>

#include <chrono>
#include <filesystem>
#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace otpp::code {

// A live process pinned to a version; `behaviour`: a GenServer engine that can
// be migrated, otherwise a process that inherited the pin from its spawner.
struct Migration;

struct PinnedProcess {
    Pid pid;
    bool behaviour = true;
};

class OTPP_API ModuleTable {
public:
    ModuleTable();
    ~ModuleTable();  // unloads every version left, then releases the private directory
    ModuleTable(const ModuleTable&) = delete;
    ModuleTable& operator=(const ModuleTable&) = delete;

    // The ModuleVersion for a module compiled into the caller (cached by address).
    std::shared_ptr<const ModuleVersion> static_version(const ModuleDescriptor& descriptor);
    struct PurgeReport {
        std::string version;            // the purged version ("" if there was none)
        std::vector<Pid> killed;        // processes that were pinned to it
        bool unmapped = true;           // its library is verifiably gone
        std::string detail;
        // #{version, killed, unmapped, detail}: for the console and scripts.
        Term to_term() const;
    };
    struct LoadReport {
        std::shared_ptr<const ModuleVersion> loaded;
        PurgeReport purged;             // of the version that was old before
    };

    // Loads `file` as the new current version of its module (see above).
    // Throws LoadError (bad file), or otpp::Error if that version is already
    // current or the module is built in; nothing changes then.
    // allow_unpurgeable: load a library whose ELF keeps it mapped after
    // dlclose (STB_GNU_UNIQUE, TLS destructors) instead of refusing it.
    LoadReport load(const std::filesystem::path& file, bool allow_unpurgeable = false);
    // Kills the processes pinned to `module`'s old version, unloads it.
    PurgeReport purge(Atom module);
    std::shared_ptr<const ModuleVersion> old(Atom module) const;
    // Makes `version` current for its module (used by load and by tests).
    void make_current(std::shared_ptr<const ModuleVersion> version);
    std::shared_ptr<const ModuleVersion> current(Atom module) const;
    std::vector<std::shared_ptr<const ModuleVersion>> all_current() const;

    // --- queries (Erlang's code:which/is_loaded/all_loaded, check_*_code) ---
    struct VersionStatus {
        std::string version;
        std::string file;        // the plugin file it came from ("" if built in)
        std::size_t pins = 0;    // live processes pinned to it
        bool built_in = false;
        bool unpurgeable = false;
    };
    struct ModuleStatus {
        Atom name;
        std::optional<VersionStatus> current;
        std::optional<VersionStatus> old;
    };
    std::optional<ModuleStatus> which(Atom module) const;  // nullopt: not loaded
    bool is_loaded(Atom module) const { return current(module) != nullptr; }
    std::vector<ModuleStatus> all_loaded() const;           // by module name
    // Is `pid` running the old version of `module`?
    bool check_process_code(Pid pid, Atom module) const;
    // Does `module` have an old version?
    bool check_old_code(Atom module) const { return old(module) != nullptr; }

    // --- purging without killing ---
    // Unloads the old version only if no process is pinned to it; otherwise
    // changes nothing and returns the pinned pids (Erlang's soft_purge).
    struct SoftPurgeResult {
        bool purged = false;
        std::vector<Pid> pinned;  // why it was refused
        PurgeReport report;       // when purged
    };
    SoftPurgeResult soft_purge(Atom module);
    // Makes the current version old (no new process can start on it; its
    // processes keep running). Throws otpp::Error if an old version exists or
    // the module is not loaded or built in (Erlang's code:delete/1).
    void delete_module(Atom module);

    // Where private copies of loaded plugins go (private_directory.hpp):
    // $TMPDIR/otpp-<pid> unless set. The first load claims it, deleting the
    // copies a killed owner left; the table's destruction removes it again.
    // Set it before the first load.
    void set_private_dir(std::filesystem::path dir);
    std::filesystem::path private_dir();

    // --- for upgrade() and the engine it talks to ---
    // The upgrade in progress, if `id` names it (one at a time).
    std::shared_ptr<Migration> migration(Ref id) const;
    void set_migration(std::shared_ptr<Migration> migration);
    // upgrade() holds this for its whole run: one load/upgrade/purge at a time.
    std::mutex& serial() { return load_mutex_; }
    // Table changes upgrade() makes while holding serial().
    void install(std::shared_ptr<const ModuleVersion> version);  // current -> old, version -> current
    // Takes `version` out of the table, kills its processes, unloads it.
    PurgeReport purge_version(std::shared_ptr<const ModuleVersion> version);
    // Waits (bounded) until nothing but the caller holds `version`, then
    // unloads it and checks it is unmapped; on timeout it stays loaded.
    PurgeReport unload_unused(std::shared_ptr<const ModuleVersion> version, std::chrono::milliseconds wait);
    // How to find the live processes pinned to a version (the kernel's
    // table): appends each, by id, to `behaviours` or to `inherited`.
    using PinFinder = std::function<void(const ModuleVersion*, std::vector<Pid>& behaviours, std::vector<Pid>& inherited)>;
    std::vector<PinnedProcess> pinned_to(const ModuleVersion* version) const;  // both kinds, by id
    // The same, split by kind (upgrade() wants the behaviours as they come).
    void pinned_to(const ModuleVersion* version, std::vector<Pid>& behaviours, std::vector<Pid>& inherited) const;
    void set_pin_finder(PinFinder finder) { pinned_to_ = std::move(finder); }

private:
    mutable std::mutex mutex_;
    // Declared before every version: released after they are unloaded.
    std::filesystem::path private_dir_;
    std::unique_ptr<PrivateDirectory> private_claim_;
    std::map<const ModuleDescriptor*, std::shared_ptr<const ModuleVersion>> statics_;
    struct Versions {
        std::shared_ptr<const ModuleVersion> current;
        std::shared_ptr<const ModuleVersion> old;
    };

    LoadReport load_quietly(const std::filesystem::path& file, bool allow_unpurgeable);

    std::map<uint32_t, Versions> modules_;  // by atom index
    std::mutex load_mutex_;                 // one load or purge at a time
    PinFinder pinned_to_;
    // Versions whose processes would not die: kept loaded (their code may run).
    std::vector<std::shared_ptr<const ModuleVersion>> leaked_;
    // The upgrade in progress, once per shard (see migration.hpp): a process
    // looks it up in its scheduler's slot, under that slot's lock, and copies
    // that slot's handle, which has a reference count of its own (every
    // handle keeps the one Migration alive). One slot for 100k processes had
    // both cores fight over its lock and its count.
    struct alignas(64) MigrationSlot {
        mutable std::atomic<bool> lock{false};
        std::shared_ptr<Migration> handle;
    };
    std::array<MigrationSlot, 16> migration_slots_;
};

}  // namespace otpp::code
