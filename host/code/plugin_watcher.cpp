#include "plugin_watcher.hpp"
#include "../runtime/thread_name.hpp"

#include <otpp/error.hpp>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <map>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace otpp::code {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

PluginWatcher::PluginWatcher(ModuleTable& modules, std::vector<fs::path> dirs, UpgradeOptions options,
                             OnReport on_report, std::chrono::milliseconds settle)
    : modules_(modules), options_(std::move(options)), on_report_(std::move(on_report)), settle_(settle) {
    inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (inotify_fd_ < 0 || stop_fd_ < 0) {
        std::string why = std::strerror(errno);
        if (inotify_fd_ >= 0) ::close(inotify_fd_);
        if (stop_fd_ >= 0) ::close(stop_fd_);
        throw Error("plugin watcher: " + why);
    }
    for (auto& dir : dirs) {
        int wd = ::inotify_add_watch(inotify_fd_, dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO);
        if (wd < 0) {
            std::string why = std::strerror(errno);
            ::close(inotify_fd_);
            ::close(stop_fd_);
            throw Error("plugin watcher: cannot watch " + dir.string() + ": " + why);
        }
        watches_.emplace_back(wd, dir);
    }
    thread_ = std::thread([this] { run(); });
}

PluginWatcher::~PluginWatcher() {
    stop();
    ::close(inotify_fd_);
    ::close(stop_fd_);
}

void PluginWatcher::stop() {
    if (!thread_.joinable()) return;
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof one);
    thread_.join();
}

void PluginWatcher::run() {
    runtime::name_this_thread("otpp-watcher");
    std::map<fs::path, Clock::time_point> pending;  // file -> last change
    alignas(inotify_event) char buffer[16 * 1024];
    for (;;) {
        int timeout = -1;
        if (!pending.empty()) {
            auto next = std::min_element(pending.begin(), pending.end(),
                                         [](auto& a, auto& b) { return a.second < b.second; })->second + settle_;
            timeout = static_cast<int>(std::max<int64_t>(
                0, std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count() + 1));
        }
        pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        if (::poll(fds, 2, timeout) < 0 && errno != EINTR) {
            spdlog::error("plugin watcher: poll: {}; watching stops", std::strerror(errno));
            return;
        }
        if (fds[1].revents) return;
        if (fds[0].revents & POLLIN) {
            ssize_t len;
            while ((len = ::read(inotify_fd_, buffer, sizeof buffer)) > 0) {
                for (char* p = buffer; p < buffer + len;) {
                    auto* event = reinterpret_cast<inotify_event*>(p);
                    p += sizeof(inotify_event) + event->len;
                    if (!event->len) continue;
                    fs::path name(event->name);
                    if (name.extension() != ".so") continue;
                    for (auto& [wd, dir] : watches_)
                        if (wd == event->wd) pending[dir / name] = Clock::now();
                }
            }
        }
        auto now = Clock::now();
        for (auto it = pending.begin(); it != pending.end();) {
            if (now - it->second < settle_) {
                ++it;
                continue;
            }
            fs::path file = it->first;
            it = pending.erase(it);
            spdlog::info("plugin watcher: {} changed, upgrading", file.string());
            UpgradeReport report = upgrade(modules_, file, options_);
            if (on_report_) on_report_(report);
        }
    }
}

}  // namespace otpp::code
