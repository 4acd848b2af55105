// One loaded version of one behaviour module.
//
// Processes running a module hold a shared_ptr to its ModuleVersion (their
// "pin"): while any process is pinned, the version's code stays mapped. The
// code server decides when versions become old and are purged.
#pragma once

#include <otpp/export.hpp>
#include <otpp/module.hpp>
#include <otpp/term.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace otpp::code {

class PluginLibrary;

// A number no other version gets in this run (from 1; 31 bits).
OTPP_API uint32_t next_version_pin_id() noexcept;

struct ModuleVersion {
    // What the process table's pin words name this version by: a word (the
    // pid's serial and this number) can be read in one load, and a number
    // never reused cannot name a version freed and reallocated at the same
    // address.
    const uint32_t pin_id = next_version_pin_id();
    Atom name;
    std::string version;
    BehaviourKind kind = BehaviourKind::gen_server;
    const void* callbacks = nullptr;            // e.g. const gen_server::Callbacks*
    std::shared_ptr<PluginLibrary> library;     // null: compiled into the host
    std::string file;                           // the plugin file it came from ("" if built in)
    // Counts the servers that ever started on this version: an upgrade that
    // sees it unchanged knows no server started while it worked.
    mutable std::atomic<uint64_t> servers_started{0};

    std::string label() const { return std::string(name.name()) + "@" + version; }
    bool unpurgeable() const;  // loaded despite an ELF that keeps it mapped
};

// A module name: an atom that needs no quotes, [a-z][A-Za-z0-9_@]*, at most
// Atom::max_name_bytes (otpp/module.hpp). The loader, the config and upgrade
// plans all check names with this one rule.
inline bool is_module_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > Atom::max_name_bytes || name.front() < 'a' || name.front() > 'z') return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '@'))
            return false;
    return true;
}

// A version described by `descriptor` (whose storage must outlive it: the
// plugin's, or static).
inline std::shared_ptr<ModuleVersion> make_version(const ModuleDescriptor& descriptor) {
    auto v = std::make_shared<ModuleVersion>();
    v->name = Atom(descriptor.name);
    v->version = descriptor.version;
    v->kind = descriptor.kind;
    v->callbacks = descriptor.callbacks;
    return v;
}

}  // namespace otpp::code
