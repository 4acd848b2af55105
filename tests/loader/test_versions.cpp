// Two versions of one module, and one file loaded twice: each load is its own
// mapping with its own code (a private copy each, RTLD_LOCAL).
#include "support.hpp"

using namespace otpp;
using namespace otpp::test;
using code::PluginLibrary;

TEST_CASE("v1 and v2 of a module are loaded side by side, each with its own code", "[loader][versions]") {
    TempDir dir;
    auto v1 = PluginLibrary::load(plugin_file::good_v1, dir.options());
    auto v2 = PluginLibrary::load(plugin_file::good_v2, dir.options());

    CHECK(v1->module_name() == "probe");
    CHECK(v2->module_name() == "probe");
    CHECK(v1->version() == "1.0.0");
    CHECK(v2->version() == "2.0.0");

    auto v1_probe = plugin_function<ProbeVersionFn>(*v1, "probe_version");
    auto v2_probe = plugin_function<ProbeVersionFn>(*v2, "probe_version");
    CHECK(v1_probe != v2_probe);
    CHECK(std::string(v1_probe()) == "1.0.0");
    CHECK(std::string(v2_probe()) == "2.0.0");

    // Unloading the old version leaves the new one intact.
    CHECK(v1->unload().unmapped);
    CHECK(std::string(v2_probe()) == "2.0.0");
    CHECK_FALSE(maps_lines_with(v2->private_copy().string()).empty());
}

TEST_CASE("loading the same file twice gives two independent libraries", "[loader][versions]") {
    TempDir dir;
    auto first = PluginLibrary::load(plugin_file::good_v1, dir.options());
    auto second = PluginLibrary::load(plugin_file::good_v1, dir.options());

    CHECK(first->private_copy() != second->private_copy());
    auto first_probe = plugin_function<ProbeVersionFn>(*first, "probe_version");
    auto second_probe = plugin_function<ProbeVersionFn>(*second, "probe_version");
    CHECK(first_probe != second_probe);

    CHECK(first->unload().unmapped);
    CHECK(maps_lines_with(first->private_copy().string()).empty());
    CHECK(std::string(second_probe()) == "1.0.0");
    CHECK(second->unload().unmapped);
}
