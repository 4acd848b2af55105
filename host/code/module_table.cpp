#include "module_table.hpp"

#include "plugin_library.hpp"

#include <otpp/error.hpp>

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
}  // namespace

std::shared_ptr<const ModuleVersion> ModuleTable::static_version(const ModuleDescriptor& descriptor) {
    std::lock_guard lock(mutex_);
    auto& slot = statics_[&descriptor];
    if (!slot) slot = version_from(descriptor);
    return slot;
}

std::shared_ptr<const ModuleVersion> ModuleTable::load(const std::filesystem::path& file) {
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
    make_current(v);
    return v;
}

void ModuleTable::make_current(std::shared_ptr<const ModuleVersion> version) {
    std::lock_guard lock(mutex_);
    current_[version->name.index()] = std::move(version);
}

std::shared_ptr<const ModuleVersion> ModuleTable::current(Atom module) const {
    std::lock_guard lock(mutex_);
    auto it = current_.find(module.index());
    return it == current_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const ModuleVersion>> ModuleTable::all_current() const {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<const ModuleVersion>> out;
    for (auto& [index, v] : current_) out.push_back(v);
    return out;
}

void ModuleTable::set_private_dir(std::filesystem::path dir) {
    std::lock_guard lock(mutex_);
    private_dir_ = std::move(dir);
}

}  // namespace otpp::code
