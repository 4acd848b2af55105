// A library with STB_GNU_UNIQUE symbols: refused by default (test_refusals).
// Loaded on request, it is marked unpurgeable, and unload() reports what
// glibc really does, which is subtler than "never unloaded":
//   - glibc enters a unique symbol in a process-wide table the first time one
//     is bound, and marks only the library that provided it NODELETE;
//   - every later library defining the same symbol binds to that first
//     definition: its copy of the static is never used, and it unloads fine.
// So the first copy stays mapped for good, and later copies (later versions
// of the module!) share its state.
//
// Only this test case dlopens gnu_unique.so, so the process has no prior
// definition whether it runs alone (ctest) or with the whole suite.
#include "support.hpp"

using namespace otpp;
using namespace otpp::test;
using code::HygieneProblem;
using code::PluginLibrary;

TEST_CASE("STB_GNU_UNIQUE: the first copy stays mapped, later copies share its static and unload",
          "[loader][gnu_unique]") {
    TempDir dir;
    auto first = PluginLibrary::load(plugin_file::gnu_unique, dir.options(true));
    auto second = PluginLibrary::load(plugin_file::gnu_unique, dir.options(true));

    for (const auto& library : {first, second}) {
        CHECK(library->module_name() == "gnu_unique");
        CHECK(library->unpurgeable());
        REQUIRE(library->hygiene_problems().size() == 1);
        const HygieneProblem& problem = library->hygiene_problems()[0];
        CHECK(problem.kind == HygieneProblem::Kind::gnu_unique);
        CHECK_THAT(problem.symbols, Catch::VectorContains(std::string("_ZZN12probe_unique7counterEvE5count")));
    }

    // One counter for both copies: the second bound to the first's static.
    auto touch_first = plugin_function<int (*)()>(*first, "gnu_unique_touch");
    auto touch_second = plugin_function<int (*)()>(*second, "gnu_unique_touch");
    CHECK(touch_first() == 1);
    CHECK(touch_second() == 2);
    CHECK(touch_first() == 3);

    const std::string second_copy = second->private_copy().string();
    code::UnloadResult second_result = second->unload();
    CHECK(second_result.unmapped);
    CHECK(maps_lines_with(second_copy).empty());

    const std::string first_copy = first->private_copy().string();
    code::UnloadResult first_result = first->unload();
    CHECK_FALSE(first_result.unmapped);
    CHECK_THAT(first_result.detail, Catch::Contains(first_copy + " is still mapped after dlclose"));
    CHECK_THAT(first_result.detail, Catch::Contains("expected: it has STB_GNU_UNIQUE symbols"));
    // Independently: the kernel still maps it, now as a deleted file, and the
    // copy's name is gone from private_dir.
    auto lines = maps_lines_with(first_copy);
    CHECK_FALSE(lines.empty());
    for (const auto& line : lines) CHECK_THAT(line, Catch::EndsWith(" (deleted)"));
    CHECK(files_in(dir.path).empty());
    // Its code still runs: the mapping is really there, not just listed.
    CHECK(touch_first() == 4);

    // A later call repeats the first answer.
    CHECK(first->unload().detail == first_result.detail);
}
