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

#include <otpp/export.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace otpp::code {

class OTPP_API ModuleTable {
public:
    // The ModuleVersion for a module compiled into the caller (cached by address).
    std::shared_ptr<const ModuleVersion> static_version(const ModuleDescriptor& descriptor);
    struct PurgeReport {
        std::string version;            // the purged version ("" if there was none)
        std::vector<Pid> killed;        // processes that were pinned to it
        bool unmapped = true;           // its library is verifiably gone
        std::string detail;
    };
    struct LoadReport {
        std::shared_ptr<const ModuleVersion> loaded;
        PurgeReport purged;             // of the version that was old before
    };

    // Loads `file` as the new current version of its module (see above).
    // Throws LoadError (bad file), or otpp::Error if that version is already
    // current; nothing changes then.
    LoadReport load(const std::filesystem::path& file);
    // Kills the processes pinned to `module`'s old version, unloads it.
    PurgeReport purge(Atom module);
    std::shared_ptr<const ModuleVersion> old(Atom module) const;
    // Makes `version` current for its module (used by load and by tests).
    void make_current(std::shared_ptr<const ModuleVersion> version);
    std::shared_ptr<const ModuleVersion> current(Atom module) const;
    std::vector<std::shared_ptr<const ModuleVersion>> all_current() const;

    void set_private_dir(std::filesystem::path dir);
    // How to find the live processes pinned to a version (the kernel's table).
    using PinFinder = std::function<std::vector<Pid>(const ModuleVersion*)>;
    void set_pin_finder(PinFinder finder) { pinned_to_ = std::move(finder); }

private:
    mutable std::mutex mutex_;
    std::map<const ModuleDescriptor*, std::shared_ptr<const ModuleVersion>> statics_;
    struct Versions {
        std::shared_ptr<const ModuleVersion> current;
        std::shared_ptr<const ModuleVersion> old;
    };
    PurgeReport purge_version(std::shared_ptr<const ModuleVersion> version);

    std::map<uint32_t, Versions> modules_;  // by atom index
    std::mutex load_mutex_;                 // one load or purge at a time
    PinFinder pinned_to_;
    // Versions whose processes would not die: kept loaded (their code may run).
    std::vector<std::shared_ptr<const ModuleVersion>> leaked_;
    std::filesystem::path private_dir_;
};

}  // namespace otpp::code
