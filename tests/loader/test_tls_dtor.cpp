// A library with a thread_local destructor: refused by default
// (test_refusals). Loaded on request, whether it can be unmapped depends on
// whether a living thread has touched its thread_local; these tests record
// what glibc actually does in each case.
#include "support.hpp"

#include <thread>

using namespace otpp;
using namespace otpp::test;
using code::HygieneProblem;
using code::PluginLibrary;

TEST_CASE("allow_unpurgeable loads a library with thread_local destructors and marks it", "[loader][tls]") {
    TempDir dir;
    auto library = PluginLibrary::load(plugin_file::tls_dtor, dir.options(true));
    CHECK(library->unpurgeable());
    REQUIRE(library->hygiene_problems().size() == 1);
    CHECK(library->hygiene_problems()[0].kind == HygieneProblem::Kind::thread_local_destructors);
}

TEST_CASE("untouched, a library with thread_local destructors unloads", "[loader][tls]") {
    TempDir dir;
    auto library = PluginLibrary::load(plugin_file::tls_dtor, dir.options(true));
    const std::string copy = library->private_copy().string();
    CHECK(library->unload().unmapped);
    CHECK(maps_lines_with(copy).empty());
}

TEST_CASE("touched by a thread that has exited, it unloads", "[loader][tls]") {
    TempDir dir;
    auto library = PluginLibrary::load(plugin_file::tls_dtor, dir.options(true));
    auto touch = plugin_function<int (*)()>(*library, "tls_touch");
    auto destroyed = plugin_function<int (*)()>(*library, "tls_destroyed");
    std::thread([touch] { touch(); }).join();
    CHECK(destroyed() == 1);

    const std::string copy = library->private_copy().string();
    CHECK(library->unload().unmapped);
    CHECK(maps_lines_with(copy).empty());
}

TEST_CASE("touched by a living thread, it stays mapped and unload says so", "[loader][tls]") {
    TempDir dir;
    auto library = PluginLibrary::load(plugin_file::tls_dtor, dir.options(true));
    auto touch = plugin_function<int (*)()>(*library, "tls_touch");
    // This thread lives on (it runs the rest of the suite); its destructor
    // runs at exit, from the mapping glibc kept for it.
    CHECK(touch() == 1);

    const std::string copy = library->private_copy().string();
    code::UnloadResult result = library->unload();
    CHECK_FALSE(result.unmapped);
    CHECK_THAT(result.detail, Catch::Contains("is still mapped after dlclose"));
    CHECK_THAT(result.detail, Catch::Contains("thread_local objects with destructors"));
    CHECK_FALSE(maps_lines_with(copy).empty());
}
