#include "module_table.hpp"

#include "plugin_library.hpp"

#include "../runtime/current.hpp"

#include <otpp/error.hpp>

#include <otpp/process.hpp>

#include <algorithm>
#include <chrono>
#include <thread>
#include <unistd.h>

namespace otpp::code {

namespace {
std::shared_ptr<ModuleVersion> version_from(const ModuleDescriptor& d) {
    auto v = std::make_shared<ModuleVersion>();
    v->name = Atom(d.name);
    v->version = d.version;
    v->kind = d.kind;
    v->callbacks = d.callbacks;
    return v;
}
// A process waits as a process (suspended); a plain thread sleeps.
void wait_a_moment() {
    if (runtime::current_process()) sleep_for(std::chrono::milliseconds(1));
    else std::this_thread::sleep_for(std::chrono::milliseconds(1));
}
}  // namespace

std::shared_ptr<const ModuleVersion> ModuleTable::static_version(const ModuleDescriptor& descriptor) {
    std::lock_guard lock(mutex_);
    auto& slot = statics_[&descriptor];
    if (!slot) slot = version_from(descriptor);
    return slot;
}

ModuleTable::LoadReport ModuleTable::load(const std::filesystem::path& file) {
    std::lock_guard serial(load_mutex_);
    std::filesystem::path dir;
    {
        std::lock_guard lock(mutex_);
        if (private_dir_.empty())
            private_dir_ = std::filesystem::temp_directory_path() / ("otpp-" + std::to_string(::getpid()));
        dir = private_dir_;
    }
    std::filesystem::create_directories(dir);
    auto library = PluginLibrary::load(file, LoadOptions{dir, false});
    auto v = version_from(library->descriptor());
    v->library = library;
    v->file = file.string();
    LoadReport report;
    std::shared_ptr<const ModuleVersion> old;
    {
        std::lock_guard lock(mutex_);
        Versions& versions = modules_[v->name.index()];
        if (versions.current && versions.current->version == v->version) {
            library->unload();
            throw Error("cannot load " + file.string() + ": " + v->label() + " is already the current version");
        }
        old = versions.old;
    }
    // The third version: whatever still runs the old one dies first.
    if (old) report.purged = purge_version(std::move(old));  // (moved: purge waits for the last other holder)
    {
        std::lock_guard lock(mutex_);
        Versions& versions = modules_[v->name.index()];
        versions.old = std::move(versions.current);
        versions.current = v;
    }
    report.loaded = v;
    return report;
}

ModuleTable::PurgeReport ModuleTable::purge(Atom module) {
    std::lock_guard serial(load_mutex_);
    std::shared_ptr<const ModuleVersion> old;
    {
        std::lock_guard lock(mutex_);
        auto it = modules_.find(module.index());
        if (it != modules_.end()) old = it->second.old;
    }
    if (!old) return {};
    return purge_version(std::move(old));
}

ModuleTable::PurgeReport ModuleTable::purge_version(std::shared_ptr<const ModuleVersion> version) {
    PurgeReport report;
    report.version = version->version;
    {
        // From now on nobody can find it to start a new process on it.
        std::lock_guard lock(mutex_);
        auto& versions = modules_[version->name.index()];
        if (versions.old == version) versions.old.reset();
    }
    // Kill every process pinned to it, until none is left: a process may
    // still have been starting on it while we swept.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        std::vector<Pid> pinned = pinned_to_ ? pinned_to_(version.get()) : std::vector<Pid>{};
        for (Pid pid : pinned) {
            exit(pid, atoms::kill);
            if (std::find(report.killed.begin(), report.killed.end(), pid) == report.killed.end())
                report.killed.push_back(pid);
        }
        if (version.use_count() == 1) break;  // only we hold it: every pin is gone
        if (std::chrono::steady_clock::now() > deadline) {
            report.unmapped = false;
            report.detail = "processes still pinned after 10 s (stuck in code that never yields?)";
            leaked_.push_back(std::move(version));  // keep it mapped: its code may still run
            return report;
        }
        wait_a_moment();
    }
    if (version->library) {
        UnloadResult r = version->library->unload();
        report.unmapped = r.unmapped;
        report.detail = r.detail;
    }
    return report;
}

void ModuleTable::make_current(std::shared_ptr<const ModuleVersion> version) {
    std::lock_guard lock(mutex_);
    modules_[version->name.index()].current = std::move(version);
}

std::shared_ptr<const ModuleVersion> ModuleTable::current(Atom module) const {
    std::lock_guard lock(mutex_);
    auto it = modules_.find(module.index());
    return it == modules_.end() ? nullptr : it->second.current;
}

std::shared_ptr<const ModuleVersion> ModuleTable::old(Atom module) const {
    std::lock_guard lock(mutex_);
    auto it = modules_.find(module.index());
    return it == modules_.end() ? nullptr : it->second.old;
}

std::vector<std::shared_ptr<const ModuleVersion>> ModuleTable::all_current() const {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<const ModuleVersion>> out;
    for (auto& [index, v] : modules_)
        if (v.current) out.push_back(v.current);
    return out;
}

void ModuleTable::set_private_dir(std::filesystem::path dir) {
    std::lock_guard lock(mutex_);
    private_dir_ = std::move(dir);
}

}  // namespace otpp::code
