// The dev loop: watches plugin directories and upgrades a module when its
// file is written or moved in (config `code.watch`, off by default).
//
// Uses inotify (IN_CLOSE_WRITE, IN_MOVED_TO) on `*.so` files. Changes are
// debounced (a build writes a file in several steps, a copy may be followed by
// a rename): a file is upgraded once nothing has happened to it for
// `settle`. Each upgrade's report goes to the log and to `on_report`.
//
// Owns one thread. Not copyable; stop() (or the destructor) joins it.
#pragma once

#include "upgrade.hpp"

#include <otpp/export.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

namespace otpp::code {

class OTPP_API PluginWatcher {
public:
    using OnReport = std::function<void(const UpgradeReport&)>;
    // Throws otpp::Error if a directory cannot be watched.
    PluginWatcher(ModuleTable& modules, std::vector<std::filesystem::path> dirs, UpgradeOptions options = {},
                  OnReport on_report = {}, std::chrono::milliseconds settle = std::chrono::milliseconds(200));
    ~PluginWatcher();
    PluginWatcher(const PluginWatcher&) = delete;
    PluginWatcher& operator=(const PluginWatcher&) = delete;

    void stop();

private:
    void run();

    ModuleTable& modules_;
    UpgradeOptions options_;
    OnReport on_report_;
    std::chrono::milliseconds settle_;
    int inotify_fd_ = -1;
    int stop_fd_ = -1;  // an eventfd that wakes the thread to stop
    std::vector<std::pair<int, std::filesystem::path>> watches_;
    std::thread thread_;
};

}  // namespace otpp::code
