// Every library the loader must refuse: LoadError names the file and the
// reason, and the host is left as it was (no copy in private_dir, nothing of
// it mapped).
#include "support.hpp"

#include <sys/stat.h>

#include <initializer_list>

using namespace otpp;
using namespace otpp::test;
using code::LoadError;
using code::PluginLibrary;

namespace {

void expect_refused(const std::string& file, std::initializer_list<std::string> reasons,
                    bool allow_unpurgeable = false) {
    TempDir dir;
    CAPTURE(file);
    try {
        PluginLibrary::load(file, dir.options(allow_unpurgeable));
        FAIL("loaded");
    } catch (const LoadError& e) {
        const std::string what = e.what();
        CAPTURE(what);
        CHECK_THAT(what, Catch::StartsWith("cannot load " + file + ": "));
        CHECK(e.file() == fs::path(file));
        CHECK(what == "cannot load " + file + ": " + e.reason());
        for (const auto& reason : reasons) CHECK_THAT(e.reason(), Catch::Contains(reason));
    }
    if (fs::exists(dir.path)) CHECK(files_in(dir.path).empty());
    CHECK(maps_lines_with(dir.path.string()).empty());
}

}  // namespace

TEST_CASE("LoadError is an otpp::Error", "[loader][refusals]") {
    TempDir dir;
    CHECK_THROWS_AS(PluginLibrary::load(plugin_file::garbage, dir.options()), otpp::Error);
}

TEST_CASE("refused: a missing file", "[loader][refusals]") {
    TempDir dir;
    expect_refused((dir.path / "missing.so").string(), {"No such file or directory"});
}

TEST_CASE("refused: a directory", "[loader][refusals]") {
    TempDir dir;
    expect_refused(dir.path.string(), {"is a directory"});
}

TEST_CASE("refused: a FIFO, without hanging", "[loader][refusals]") {
    TempDir dir;
    fs::path fifo = dir.path / "fifo.so";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    expect_refused(fifo.string(), {"not a regular file"});
}

TEST_CASE("refused: an empty file", "[loader][refusals]") {
    expect_refused(plugin_file::empty, {"file is empty"});
}

TEST_CASE("refused: a file that is not ELF", "[loader][refusals]") {
    expect_refused(plugin_file::garbage, {"not an ELF file"});
}

TEST_CASE("refused: a library without otpp_module_descriptor", "[loader][refusals]") {
    expect_refused(plugin_file::no_descriptor, {"does not export otpp_module_descriptor()"});
}

TEST_CASE("refused: another SDK ABI version", "[loader][refusals]") {
    expect_refused(plugin_file::wrong_abi, {"SDK ABI version " + std::to_string(sdk_abi_version + 1) +
                                            ", this host speaks " + std::to_string(sdk_abi_version)});
}

TEST_CASE("refused: a bad descriptor magic", "[loader][refusals]") {
    expect_refused(plugin_file::bad_magic, {"bad descriptor magic 0xdeadbeef"});
}

TEST_CASE("refused: a descriptor of the wrong size", "[loader][refusals]") {
    expect_refused(plugin_file::bad_size,
                   {"descriptor size " + std::to_string(sizeof(ModuleDescriptor) - 8) + ", SDK ABI version"});
}

TEST_CASE("refused: an unknown behaviour kind", "[loader][refusals]") {
    expect_refused(plugin_file::bad_kind, {"unknown behaviour kind 7"});
}

TEST_CASE("refused: a module name that is not an atom", "[loader][refusals]") {
    expect_refused(plugin_file::bad_name, {"module name \"Not An Atom\" is not a valid atom"});
}

TEST_CASE("refused: an empty version", "[loader][refusals]") {
    expect_refused(plugin_file::empty_version, {"version string is empty"});
}

TEST_CASE("refused: STB_GNU_UNIQUE symbols, by default", "[loader][refusals]") {
    expect_refused(plugin_file::gnu_unique,
                   {"has STB_GNU_UNIQUE symbols (it could never be unloaded): ",
                    "_ZZN12probe_unique7counterEvE5count", "rebuild it with otpp_add_plugin() or -fno-gnu-unique"});
}

TEST_CASE("refused: thread_local destructors, by default", "[loader][refusals]") {
    expect_refused(plugin_file::tls_dtor, {"thread_local objects with destructors", "__cxa_thread_atexit"});
}

TEST_CASE("refused: an executable (dlopen's own refusal is cleaned up too)", "[loader][refusals]") {
    // The test binary is a PIE: ET_DYN with a .dynsym, so only dlopen says no.
    // allow_unpurgeable: some builds of it export STB_GNU_UNIQUE symbols, and
    // this test is about what happens after dlopen.
    fs::path self = fs::read_symlink("/proc/self/exe");
    expect_refused(self.string(), {"dlopen: ", "position-independent executable"}, true);
}

TEST_CASE("refused: no private directory", "[loader][refusals]") {
    try {
        PluginLibrary::load(plugin_file::good_v1, code::LoadOptions{});
        FAIL("loaded");
    } catch (const LoadError& e) {
        CHECK_THAT(e.what(), Catch::Contains("LoadOptions::private_dir is empty"));
    }
}

TEST_CASE("refused: a private directory that cannot be created", "[loader][refusals]") {
    TempDir dir;
    fs::path blocker = dir.path / "file";
    std::ofstream(blocker) << "x";
    try {
        PluginLibrary::load(plugin_file::good_v1, code::LoadOptions{blocker / "sub"});
        FAIL("loaded");
    } catch (const LoadError& e) {
        CHECK_THAT(e.what(), Catch::StartsWith(std::string("cannot load ") + plugin_file::good_v1));
        CHECK_THAT(e.what(), Catch::Contains("cannot create private directory"));
    }
}
