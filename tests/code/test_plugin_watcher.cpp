// The dev loop: a file written into a watched directory upgrades its module.
#include "support.hpp"

#include "../../host/code/plugin_watcher.hpp"

#include <mutex>

using namespace otpp;
using namespace otpp::test;
using namespace otpp::code;

namespace {

struct Reports {
    std::mutex mutex;
    std::vector<UpgradeReport> seen;
    std::optional<UpgradeReport> wait_for(std::size_t n) {
        auto deadline = std::chrono::steady_clock::now() + patience;
        while (std::chrono::steady_clock::now() < deadline) {
            {
                std::lock_guard lock(mutex);
                if (seen.size() >= n) return seen[n - 1];
            }
            sleep_for(5ms);
        }
        return std::nullopt;
    }
};

// Like a build or a deploy: write beside, then rename into place.
void install(const char* from, const std::filesystem::path& dir, const std::string& name) {
    auto tmp = dir / (name + ".partial");
    std::filesystem::copy_file(from, tmp, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(tmp, dir / name);
}

}  // namespace

TEST_CASE_METHOD(CodeFixture, "the watcher upgrades a module when its file changes", "[code][watch]") {
    auto dir = std::filesystem::temp_directory_path() / ("otpp-watch-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    modules.load(counter_file::v1);
    Pid server = start_counters(1, 3)[0];

    Reports reports;
    PluginWatcher watcher(modules, {dir}, {}, [&](const UpgradeReport& r) {
        std::lock_guard lock(reports.mutex);
        reports.seen.push_back(r);
    }, 50ms);

    install(counter_file::v2, dir, "counter.so");
    auto first = reports.wait_for(1);
    REQUIRE(first);
    INFO(first->to_text());
    CHECK(first->outcome == UpgradeReport::Outcome::upgraded);
    CHECK(version_of(server) == "2.0.0");
    CHECK(gen_server::call(server, Atom("get")) == Term(3));

    // A broken file is refused; the running version stays.
    install(counter_file::garbage, dir, "counter.so");
    auto second = reports.wait_for(2);
    REQUIRE(second);
    CHECK(second->outcome == UpgradeReport::Outcome::refused);
    CHECK(version_of(server) == "2.0.0");

    // Files that are not plugins are ignored.
    std::ofstream(dir / "notes.txt") << "hello";
    install(counter_file::v3, dir, "counter.so");
    auto third = reports.wait_for(3);
    REQUIRE(third);
    CHECK(third->to_version == "3.0.0");
    watcher.stop();
    std::filesystem::remove_all(dir);
}

TEST_CASE_METHOD(CodeFixture, "watching a directory that does not exist is a clear error", "[code][watch]") {
    CHECK_THROWS_WITH(PluginWatcher(modules, {"/nonexistent/plugins"}), Catch::Contains("/nonexistent/plugins"));
}
