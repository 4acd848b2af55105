#include "module_table.hpp"

#include "migration.hpp"
#include "plugin_library.hpp"

#include "../runtime/current.hpp"

#include <otpp/error.hpp>

#include <otpp/process.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <unistd.h>

namespace otpp::code {

uint32_t next_version_pin_id() noexcept {
    static std::atomic<uint32_t> next{0};
    return next.fetch_add(1, std::memory_order_relaxed) % 0x7fff'ffffu + 1;
}

namespace {
// A process waits as a process (suspended); a plain thread sleeps.
void wait_a_moment() {
    if (runtime::current_process()) sleep_for(std::chrono::milliseconds(1));
    else std::this_thread::sleep_for(std::chrono::milliseconds(1));
}
// Unloads a version's library (built-in versions have none) into `report`.
void unload_library(const ModuleVersion& version, ModuleTable::PurgeReport& report) {
    if (!version.library) return;
    UnloadResult r = version.library->unload();
    report.unmapped = r.unmapped;
    report.detail = r.detail;
}

}  // namespace

ModuleTable::ModuleTable() = default;
ModuleTable::~ModuleTable() = default;

std::shared_ptr<const ModuleVersion> ModuleTable::static_version(const ModuleDescriptor& descriptor) {
    std::lock_guard lock(mutex_);
    auto& slot = statics_[&descriptor];
    if (!slot) slot = make_version(descriptor);
    return slot;
}

std::filesystem::path ModuleTable::private_dir() {
    std::lock_guard lock(mutex_);
    if (private_dir_.empty())
        private_dir_ = std::filesystem::temp_directory_path() / ("otpp-" + std::to_string(::getpid()));
    if (!private_claim_ || private_claim_->path() != private_dir_) {
        auto claim = std::make_unique<PrivateDirectory>(private_dir_);
        // Unusable: PluginLibrary::load says why; the next call tries again.
        if (!claim->usable()) return private_dir_;
        if (claim->stale_removed() > 0)
            spdlog::info("deleted {} stale plugin copies from {} (left by a host that did not exit cleanly)",
                         claim->stale_removed(), private_dir_.string());
        private_claim_ = std::move(claim);
    }
    return private_dir_;
}

bool ModuleVersion::unpurgeable() const { return library && library->unpurgeable(); }

ModuleTable::LoadReport ModuleTable::load(const std::filesystem::path& file, bool allow_unpurgeable) {
    // Every load leaves a log entry, whoever asked (the host at start, the
    // console, a plan): what was loaded, or why not.
    try {
        LoadReport report = load_quietly(file, allow_unpurgeable);
        spdlog::info("loaded {} from {}", report.loaded->label(), file.string());
        return report;
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        throw;
    }
}

ModuleTable::LoadReport ModuleTable::load_quietly(const std::filesystem::path& file, bool allow_unpurgeable) {
    std::lock_guard serial(load_mutex_);
    auto library = PluginLibrary::load(file, LoadOptions{private_dir(), allow_unpurgeable});
    auto v = make_version(library->descriptor());
    v->library = library;
    v->file = file.string();
    LoadReport report;
    std::shared_ptr<const ModuleVersion> old;
    {
        std::lock_guard lock(mutex_);
        Versions& versions = modules_[v->name.index()];
        std::string refusal;
        if (versions.current && versions.current->version == v->version)
            refusal = v->label() + " is already the current version";
        else if (versions.current && !versions.current->library)
            refusal = "module " + std::string(v->name.name()) + " is built into the host";
        if (!refusal.empty()) {
            library->unload();
            throw Error("cannot load " + file.string() + ": " + refusal);
        }
        old = versions.old;
    }
    // The third version: whatever still runs the old one dies first.
    if (old) report.purged = purge_version(std::move(old));  // (moved: purge waits for the last other holder)
    install(v);
    report.loaded = v;
    return report;
}

void ModuleTable::install(std::shared_ptr<const ModuleVersion> version) {
    std::lock_guard lock(mutex_);
    Versions& versions = modules_[version->name.index()];
    versions.old = std::move(versions.current);
    versions.current = std::move(version);
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
        // Every pin is a reference: when only we hold it, no process can be
        // pinned to it and the scan of every process can be skipped.
        if (version.use_count() == 1) break;
        for (auto [pid, behaviour] : pinned_to(version.get())) {
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
    unload_library(*version, report);
    spdlog::log(report.unmapped ? spdlog::level::info : spdlog::level::err,
                "code purge {}: {} processes killed; {}", version->label(), report.killed.size(),
                report.unmapped ? "unloaded, verified unmapped" : "NOT unmapped: " + report.detail);
    return report;
}

ModuleTable::PurgeReport ModuleTable::unload_unused(std::shared_ptr<const ModuleVersion> version,
                                                    std::chrono::milliseconds wait) {
    PurgeReport report;
    report.version = version->version;
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (version.use_count() > 1) {
        if (std::chrono::steady_clock::now() > deadline) {
            report.unmapped = false;
            report.detail = "still in use after " + std::to_string(wait.count()) + " ms; kept loaded";
            std::lock_guard lock(mutex_);
            leaked_.push_back(std::move(version));
            return report;
        }
        wait_a_moment();
    }
    unload_library(*version, report);
    return report;
}

Term ModuleTable::PurgeReport::to_term() const {
    std::vector<Term> pids(killed.begin(), killed.end());
    return Term::map({{Atom("version"), Term::binary(version)},
                      {Atom("killed"), Term::list(std::move(pids))},
                      {Atom("unmapped"), unmapped},
                      {Atom("detail"), Term::binary(detail)}});
}

void ModuleTable::pinned_to(const ModuleVersion* version, std::vector<Pid>& behaviours,
                            std::vector<Pid>& inherited) const {
    if (pinned_to_) pinned_to_(version, behaviours, inherited);
}

std::vector<PinnedProcess> ModuleTable::pinned_to(const ModuleVersion* version) const {
    std::vector<Pid> behaviours, inherited;
    pinned_to(version, behaviours, inherited);
    std::vector<PinnedProcess> out;
    out.reserve(behaviours.size() + inherited.size());
    auto b = behaviours.begin();
    auto i = inherited.begin();
    while (b != behaviours.end() || i != inherited.end()) {
        if (i == inherited.end() || (b != behaviours.end() && b->id < i->id)) out.push_back({*b++, true});
        else out.push_back({*i++, false});
    }
    return out;
}

ModuleTable::SoftPurgeResult ModuleTable::soft_purge(Atom module) {
    std::lock_guard serial(load_mutex_);
    SoftPurgeResult result;
    auto version = old(module);
    if (!version) {
        result.purged = true;  // nothing to purge (Erlang: true)
        return result;
    }
    for (auto& p : pinned_to(version.get())) result.pinned.push_back(p.pid);
    if (!result.pinned.empty()) return result;
    // Nothing runs it and nothing can start on it once it leaves the table:
    // purge_version finds no one to kill.
    result.report = purge_version(std::move(version));
    result.purged = true;
    return result;
}

void ModuleTable::delete_module(Atom module) {
    std::lock_guard serial(load_mutex_);
    std::lock_guard lock(mutex_);
    auto it = modules_.find(module.index());
    if (it == modules_.end() || !it->second.current)
        throw Error("cannot delete " + std::string(module.name()) + ": not loaded");
    if (!it->second.current->library)
        throw Error("cannot delete " + std::string(module.name()) + ": built into the host");
    if (it->second.old)
        throw Error("cannot delete " + std::string(module.name()) + ": old version " + it->second.old->version +
                    " must be purged first");
    it->second.old = std::move(it->second.current);
}

std::optional<ModuleTable::ModuleStatus> ModuleTable::which(Atom module) const {
    std::shared_ptr<const ModuleVersion> cur, old_version;
    {
        std::lock_guard lock(mutex_);
        auto it = modules_.find(module.index());
        if (it == modules_.end() || (!it->second.current && !it->second.old)) return std::nullopt;
        cur = it->second.current;
        old_version = it->second.old;
    }
    auto status_of = [&](const std::shared_ptr<const ModuleVersion>& v) -> std::optional<VersionStatus> {
        if (!v) return std::nullopt;
        return VersionStatus{v->version, v->file, pinned_to(v.get()).size(), !v->library, v->unpurgeable()};
    };
    return ModuleStatus{module, status_of(cur), status_of(old_version)};
}

std::vector<ModuleTable::ModuleStatus> ModuleTable::all_loaded() const {
    std::vector<Atom> names;
    {
        std::lock_guard lock(mutex_);
        for (auto& [index, v] : modules_)
            if (v.current || v.old) names.push_back(v.current ? v.current->name : v.old->name);
    }
    std::sort(names.begin(), names.end(), [](Atom a, Atom b) { return a.name() < b.name(); });
    std::vector<ModuleStatus> out;
    for (Atom name : names)
        if (auto status = which(name)) out.push_back(std::move(*status));
    return out;
}

bool ModuleTable::check_process_code(Pid pid, Atom module) const {
    auto version = old(module);
    if (!version) return false;
    for (auto& p : pinned_to(version.get()))
        if (p.pid == pid) return true;
    return false;
}

namespace {
// A spinlock on a flag: held for a shared_ptr copy, by many processes at once.
struct FlagLock {
    std::atomic<bool>& flag;
    explicit FlagLock(std::atomic<bool>& f) : flag(f) {
        while (flag.exchange(true, std::memory_order_acquire))
            while (flag.load(std::memory_order_relaxed)) __builtin_ia32_pause();
    }
    ~FlagLock() { flag.store(false, std::memory_order_release); }
};
}  // namespace

std::shared_ptr<Migration> ModuleTable::migration(Ref id) const {
    static_assert(std::tuple_size_v<decltype(migration_slots_)> == kMigrationShards);
    const MigrationSlot& slot = migration_slots_[migration_shard_here()];
    FlagLock lock(slot.lock);
    if (slot.handle && slot.handle->id == id) return slot.handle;
    return nullptr;
}

void ModuleTable::set_migration(std::shared_ptr<Migration> migration) {
    for (MigrationSlot& slot : migration_slots_) {
        // A handle per slot: its own count, aliasing the one Migration.
        std::shared_ptr<Migration> handle;
        if (migration)
            handle = std::shared_ptr<Migration>(std::make_shared<std::shared_ptr<Migration>>(migration),
                                                migration.get());
        std::shared_ptr<Migration> previous;  // destroyed outside the lock
        FlagLock lock(slot.lock);
        previous = std::move(slot.handle);
        slot.handle = std::move(handle);
    }
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
