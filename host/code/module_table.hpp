// Which version of each module is current.
//
// For now: modules compiled into the host register once (static_version());
// plugin modules are loaded from files (load()) and become current. The code
// server (two versions per module, purge, upgrade) builds on this table.
// Thread-safe.
#pragma once

#include "module_version.hpp"

#include <otpp/export.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace otpp::code {

class OTPP_API ModuleTable {
public:
    // The ModuleVersion for a module compiled into the caller (cached by address).
    std::shared_ptr<const ModuleVersion> static_version(const ModuleDescriptor& descriptor);
    // Loads `file` as the new current version of its module. Throws LoadError.
    std::shared_ptr<const ModuleVersion> load(const std::filesystem::path& file);
    // Makes `version` current for its module (used by load and by tests).
    void make_current(std::shared_ptr<const ModuleVersion> version);
    std::shared_ptr<const ModuleVersion> current(Atom module) const;
    std::vector<std::shared_ptr<const ModuleVersion>> all_current() const;

    void set_private_dir(std::filesystem::path dir);

private:
    mutable std::mutex mutex_;
    std::map<const ModuleDescriptor*, std::shared_ptr<const ModuleVersion>> statics_;
    std::map<uint32_t, std::shared_ptr<const ModuleVersion>> current_;  // by atom index
    std::filesystem::path private_dir_;
};

}  // namespace otpp::code
