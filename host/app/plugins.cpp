#include "plugins.hpp"

#include "../runtime/kernel.hpp"

#include <otpp/error.hpp>

#include <spdlog/spdlog.h>

#include <map>
#include <set>

namespace otpp::host {

namespace {
void needed_modules(const SupervisorSpec& spec, std::set<std::string>& out) {
    for (const ChildSpec& c : spec.children) {
        if (c.type == ChildType::supervisor) needed_modules(*c.supervisor, out);
        else out.insert(std::string(c.module.name()));
    }
}
}  // namespace

void load_plugins(Runtime& runtime, const HostConfig& config) {
    auto& modules = runtime.kernel().modules();
    modules.set_private_dir(config.code.private_dir);
    std::map<std::string, std::string> failures;  // file -> reason
    for (const auto& dir : config.code.plugin_dirs) {
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(dir))
            if (entry.is_regular_file() && entry.path().extension() == ".so") files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            try {
                modules.load(file);  // logs what it loaded, or why not
            } catch (const std::exception& e) {
                failures[file.string()] = e.what();
            }
        }
    }
    std::set<std::string> needed;
    for (const auto& app : config.applications) needed_modules(app.supervisor, needed);
    for (const auto& name : needed) {
        if (name == "supervisor" || modules.current(Atom(name))) continue;
        std::string msg = "module '" + name + "' is needed by the configured applications but no plugin provides it";
        if (!failures.empty()) {
            msg += "; plugins that failed to load:";
            for (auto& [file, why] : failures) msg += "\n  " + why;
        }
        throw Error(msg);
    }
}

}  // namespace otpp::host
