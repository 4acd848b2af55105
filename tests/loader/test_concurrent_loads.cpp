// Loads from several threads at once: each gets its own copy and mapping.
#include "support.hpp"

#include <latch>
#include <set>
#include <thread>

using namespace otpp;
using namespace otpp::test;
using code::PluginLibrary;

TEST_CASE("four threads loading one file get four distinct copies", "[loader][concurrency]") {
    constexpr int threads = 4;
    TempDir dir;
    std::vector<std::shared_ptr<PluginLibrary>> libraries(threads);
    std::vector<std::string> errors(threads);
    {
        std::latch start(threads);
        std::vector<std::jthread> workers;
        for (int i = 0; i < threads; ++i) {
            workers.emplace_back([&, i] {
                start.arrive_and_wait();
                try {
                    libraries[i] = PluginLibrary::load(plugin_file::good_v1, dir.options());
                } catch (const std::exception& e) {
                    errors[i] = e.what();
                }
            });
        }
    }
    std::set<fs::path> copies;
    std::set<void*> probes;
    for (int i = 0; i < threads; ++i) {
        CAPTURE(i, errors[i]);
        REQUIRE(libraries[i]);
        copies.insert(libraries[i]->private_copy());
        auto probe = plugin_function<ProbeVersionFn>(*libraries[i], "probe_version");
        probes.insert(reinterpret_cast<void*>(probe));
        CHECK(std::string(probe()) == "1.0.0");
    }
    CHECK(copies.size() == threads);
    CHECK(probes.size() == threads);
    CHECK(files_in(dir.path).size() == threads);

    for (auto& library : libraries) CHECK(library->unload().unmapped);
    CHECK(files_in(dir.path).empty());
    CHECK(maps_lines_with(dir.path.string()).empty());
}
