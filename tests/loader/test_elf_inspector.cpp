// ELF inspection: what it finds in real plugins, and how it refuses files
// that are ELF but not loadable here (made by patching a good plugin's header).
#include "code/elf_inspector.hpp"
#include "support.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <iterator>

using namespace otpp;
using namespace otpp::test;
using code::ElfError;
using code::inspect_elf;

namespace {

std::vector<char> read_all(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    REQUIRE(in);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// good_v1 with its ELF header edited (and optionally cut to `keep` bytes).
fs::path patched_plugin(const TempDir& dir, const std::string& name, const std::function<void(Elf64_Ehdr&)>& edit,
                        std::size_t keep = SIZE_MAX) {
    std::vector<char> bytes = read_all(plugin_file::good_v1);
    REQUIRE(bytes.size() >= sizeof(Elf64_Ehdr));
    Elf64_Ehdr header;
    std::memcpy(&header, bytes.data(), sizeof header);
    edit(header);
    std::memcpy(bytes.data(), &header, sizeof header);
    bytes.resize(std::min(keep, bytes.size()));
    fs::path file = dir.path / name;
    std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return file;
}

void expect_elf_error(const fs::path& file, const std::string& reason) {
    CAPTURE(file);
    CHECK_THROWS_WITH(inspect_elf(file), Catch::Contains(reason));
    // The loader reports the same reason, naming the file.
    TempDir dir;
    CHECK_THROWS_WITH(code::PluginLibrary::load(file, dir.options()),
                      Catch::StartsWith("cannot load " + file.string() + ": ") && Catch::Contains(reason));
    CHECK(files_in(dir.path).empty());
}

}  // namespace

TEST_CASE("plugins built with otpp_add_plugin have nothing that prevents unloading", "[loader][elf]") {
    for (const char* file : {plugin_file::good_v1, plugin_file::good_v2, plugin_file::wrong_abi,
                             plugin_file::no_descriptor}) {
        CAPTURE(file);
        code::ElfFacts facts = inspect_elf(fs::path(file));
        CHECK(facts.gnu_unique_symbols.empty());
        CHECK(facts.thread_atexit_references.empty());
    }
}

TEST_CASE("STB_GNU_UNIQUE symbols are found", "[loader][elf]") {
    code::ElfFacts facts = inspect_elf(fs::path(plugin_file::gnu_unique));
    CHECK_THAT(facts.gnu_unique_symbols, Catch::VectorContains(std::string("_ZZN12probe_unique7counterEvE5count")));
    CHECK(facts.thread_atexit_references.empty());
}

TEST_CASE("references to __cxa_thread_atexit are found", "[loader][elf]") {
    code::ElfFacts facts = inspect_elf(fs::path(plugin_file::tls_dtor));
    REQUIRE(facts.thread_atexit_references.size() == 1);
    CHECK_THAT(facts.thread_atexit_references[0], Catch::StartsWith("__cxa_thread_atexit"));
    CHECK(facts.gnu_unique_symbols.empty());
}

TEST_CASE("not ELF", "[loader][elf]") {
    expect_elf_error(plugin_file::garbage, "not an ELF file");
}

TEST_CASE("ELF32", "[loader][elf]") {
    TempDir dir;
    expect_elf_error(patched_plugin(dir, "elf32.so", [](Elf64_Ehdr& h) { h.e_ident[EI_CLASS] = ELFCLASS32; }),
                     "is a 32-bit (ELF32) object, this host loads ELF64");
}

TEST_CASE("other byte order", "[loader][elf]") {
    TempDir dir;
    expect_elf_error(patched_plugin(dir, "msb.so", [](Elf64_Ehdr& h) { h.e_ident[EI_DATA] = ELFDATA2MSB; }),
                     "byte order is big-endian, unlike this host");
}

TEST_CASE("another machine", "[loader][elf]") {
    TempDir dir;
    expect_elf_error(patched_plugin(dir, "riscv.so", [](Elf64_Ehdr& h) { h.e_machine = EM_RISCV; }),
                     "is built for RISC-V, this host is x86-64");
}

TEST_CASE("not a shared object", "[loader][elf]") {
    TempDir dir;
    expect_elf_error(patched_plugin(dir, "exec.so", [](Elf64_Ehdr& h) { h.e_type = ET_EXEC; }),
                     "is a position-dependent executable, not a shared object");
    expect_elf_error(patched_plugin(dir, "rel.so", [](Elf64_Ehdr& h) { h.e_type = ET_REL; }),
                     "is a relocatable object (.o)");
}

TEST_CASE("no section headers", "[loader][elf]") {
    TempDir dir;
    expect_elf_error(patched_plugin(dir, "noshdr.so", [](Elf64_Ehdr& h) { h.e_shoff = 0; }),
                     "has no section headers");
}

TEST_CASE("section headers beyond the end of the file", "[loader][elf]") {
    TempDir dir;
    expect_elf_error(patched_plugin(dir, "far.so", [](Elf64_Ehdr& h) { h.e_shoff = UINT64_MAX - 8; }),
                     "section headers lie outside the file");
}

TEST_CASE("truncated files", "[loader][elf]") {
    TempDir dir;
    auto keep = [](Elf64_Ehdr&) {};
    expect_elf_error(patched_plugin(dir, "cut40.so", keep, 40), "truncated ELF header");
    expect_elf_error(patched_plugin(dir, "cut4.so", keep, 4), "truncated ELF header");  // just "\x7fELF"
    expect_elf_error(patched_plugin(dir, "cut3.so", keep, 3), "not an ELF file");
    expect_elf_error(patched_plugin(dir, "cut4k.so", keep, 4096), "section headers lie outside the file");
}

TEST_CASE("an ElfError for a file that cannot be opened", "[loader][elf]") {
    CHECK_THROWS_AS(inspect_elf(fs::path("/nonexistent/plugin.so")), ElfError);
}
