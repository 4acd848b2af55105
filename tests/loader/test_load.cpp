// Loading a good plugin: what the loader reports about it and where it put it.
#include "support.hpp"

#include <regex>

using namespace otpp;
using namespace otpp::test;
using code::PluginLibrary;

TEST_CASE("a good plugin loads and its descriptor is read", "[loader][load]") {
    TempDir dir;
    auto library = PluginLibrary::load(plugin_file::good_v1, dir.options());
    REQUIRE(library);

    CHECK(library->module_name() == "probe");
    CHECK(library->version() == "1.0.0");
    const ModuleDescriptor& d = library->descriptor();
    CHECK(d.magic == module_magic);
    CHECK(d.abi_version == sdk_abi_version);
    CHECK(d.descriptor_size == sizeof(ModuleDescriptor));
    CHECK(d.kind == BehaviourKind::gen_server);
    CHECK(std::string(d.name) == "probe");
    CHECK(std::string(d.version) == "1.0.0");
    CHECK(d.callbacks == nullptr);
    CHECK_FALSE(library->unpurgeable());
    CHECK(library->hygiene_problems().empty());
    CHECK(library->source_file() == fs::path(plugin_file::good_v1));
}

TEST_CASE("the loaded code is a private copy, never the original file", "[loader][load]") {
    TempDir dir;
    auto library = PluginLibrary::load(plugin_file::good_v1, dir.options());

    const fs::path& copy = library->private_copy();
    CHECK(copy.parent_path() == dir.path);
    // <stem>-<counter>-<random>.so
    CHECK(std::regex_match(copy.filename().string(), std::regex(R"(probe-1\.0\.0-[0-9]+-[0-9a-f]{16}\.so)")));
    CHECK(fs::is_regular_file(copy));
    CHECK(files_in(dir.path) == std::vector<fs::path>{copy});  // no temporary left over

    CHECK_FALSE(maps_lines_with(copy.string()).empty());
    CHECK(maps_lines_with(plugin_file::good_v1).empty());
}

TEST_CASE("the descriptor's strings outlive the library", "[loader][load]") {
    TempDir dir;
    auto library = PluginLibrary::load(plugin_file::good_v1, dir.options());
    library->unload();
    // Host-owned copies: reading them after unload must not touch unmapped memory.
    CHECK(std::string(library->descriptor().name) == "probe");
    CHECK(std::string(library->descriptor().version) == "1.0.0");
    CHECK(library->module_name() == "probe");
}

TEST_CASE("symbol() finds the plugin's exports", "[loader][load]") {
    TempDir dir;
    auto library = PluginLibrary::load(plugin_file::good_v1, dir.options());
    CHECK(std::string(plugin_function<ProbeVersionFn>(*library, "probe_version")()) == "1.0.0");
    CHECK(library->symbol("no_such_symbol") == nullptr);
}

TEST_CASE("the private directory is created if missing", "[loader][load]") {
    TempDir dir;
    fs::path nested = dir.path / "a" / "b";
    auto library = PluginLibrary::load(plugin_file::good_v1, code::LoadOptions{nested});
    CHECK(library->private_copy().parent_path() == nested);
}
