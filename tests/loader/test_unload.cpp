// Unloading: the kernel no longer maps the copy, the copy is deleted, and the
// result says so. Checked here against /proc/self/maps independently.
#include "support.hpp"

using namespace otpp;
using namespace otpp::test;
using code::PluginLibrary;

TEST_CASE("unload unmaps and deletes the private copy", "[loader][unload]") {
    TempDir dir;
    auto library = PluginLibrary::load(plugin_file::good_v1, dir.options());
    const std::string copy = library->private_copy().string();
    REQUIRE_FALSE(maps_lines_with(copy).empty());

    code::UnloadResult result = library->unload();
    CHECK(result.unmapped);
    CHECK_THAT(result.detail, Catch::Contains("no longer mapped"));
    CHECK(maps_lines_with(copy).empty());
    CHECK_FALSE(fs::exists(copy));
    CHECK(files_in(dir.path).empty());
}

TEST_CASE("unload is idempotent and symbol() is null afterwards", "[loader][unload]") {
    TempDir dir;
    auto library = PluginLibrary::load(plugin_file::good_v1, dir.options());
    code::UnloadResult first = library->unload();
    code::UnloadResult second = library->unload();
    CHECK(first.unmapped);
    CHECK(second.unmapped);
    CHECK(second.detail == first.detail);
    CHECK(library->symbol("probe_version") == nullptr);
}

TEST_CASE("dropping the last reference unloads", "[loader][unload]") {
    TempDir dir;
    std::string copy;
    {
        auto library = PluginLibrary::load(plugin_file::good_v1, dir.options());
        copy = library->private_copy().string();
        REQUIRE_FALSE(maps_lines_with(copy).empty());
    }
    CHECK(maps_lines_with(copy).empty());
    CHECK(files_in(dir.path).empty());
}

TEST_CASE("load and unload many times leaves nothing behind", "[loader][unload]") {
    TempDir dir;
    for (int i = 0; i < 50; ++i) {
        auto library = PluginLibrary::load(i % 2 ? plugin_file::good_v2 : plugin_file::good_v1, dir.options());
        REQUIRE(library->unload().unmapped);
    }
    CHECK(files_in(dir.path).empty());
    CHECK(maps_lines_with(dir.path.string()).empty());
}
