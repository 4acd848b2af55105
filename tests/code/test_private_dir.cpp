// The code server's private directory (host/code/private_directory.hpp): the
// copies a killed owner left are deleted by the next owner, nothing else is
// ever deleted, a directory shared with a live table is left alone, and a
// table that ends cleanly leaves nothing behind.
#include "support.hpp"

#include "../../host/code/plugin_library.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

using namespace otpp;
using namespace otpp::test;
namespace fs = std::filesystem;

namespace {

struct TempBase {
    TempBase() {
        std::string pattern = (fs::temp_directory_path() / "otpp-private-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempBase() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    fs::path path;
};

void touch(const fs::path& file, const std::string& text = "x") {
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
}

// Names in `dir` (not recursive), "" if it does not exist.
std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        names.insert(it->path().filename().string());
    return names;
}

std::vector<std::string> copies_in(const fs::path& dir) {
    std::vector<std::string> copies;
    for (const auto& name : names_in(dir))
        if (code::is_private_copy_name(name)) copies.push_back(name);
    return copies;
}

}  // namespace

TEST_CASE("private copy names: only the loader's own shape", "[code][private_dir]") {
    CHECK(code::is_private_copy_name("counter-1.0.0-0-0123456789abcdef.so"));
    CHECK(code::is_private_copy_name("counter_2-17-ffffffffffffffff.tmp"));
    CHECK_FALSE(code::is_private_copy_name("counter.so"));
    CHECK_FALSE(code::is_private_copy_name("counter-1.0.0.so"));
    CHECK_FALSE(code::is_private_copy_name("counter-0-0123456789abcdeg.so"));   // not hex
    CHECK_FALSE(code::is_private_copy_name("counter-0-0123456789ABCDEF.so"));   // we write lower case
    CHECK_FALSE(code::is_private_copy_name("counter-0-0123456789abcdef.so.1"));
    CHECK_FALSE(code::is_private_copy_name("counter-x-0123456789abcdef.so"));   // no counter
    CHECK_FALSE(code::is_private_copy_name("-0-0123456789abcdef.so"));          // no stem
    CHECK_FALSE(code::is_private_copy_name("a b-0-0123456789abcdef.so"));       // a character we replace
    CHECK_FALSE(code::is_private_copy_name(".lock"));
}

TEST_CASE("a runtime that ends cleanly leaves no private directory behind", "[code][private_dir]") {
    fs::path dir;
    {
        RuntimeFixture fixture;
        code::ModuleTable& modules = fixture.runtime.kernel().modules();
        modules.load(counter_file::v1);
        modules.load(counter_file::v2);
        dir = modules.private_dir();
        CHECK(copies_in(dir).size() == 2);
        CHECK(fs::exists(dir / ".lock"));
    }
    CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("a killed owner's copies are deleted by the next owner, and nothing else is", "[code][private_dir]") {
    TempBase base;
    const fs::path dir = base.path / "private";  // made by an operator: it stays
    const std::vector<std::string> stale = {"counter-1.0.0-3-0123456789abcdef.so", "kv-9-00000000000000ff.tmp"};
    const std::vector<std::string> kept = {"notes.txt", "counter.so", "counter-0-0123456789abcdeg.so"};
    for (const auto& name : stale) touch(dir / name);
    for (const auto& name : kept) touch(dir / name);
    touch(dir / "shipped" / "4242-0-counter.so");  // shipped by another node to the killed owner
    touch(dir / "shipped" / "README");
    {
        code::ModuleTable modules;
        modules.set_private_dir(dir);
        modules.load(counter_file::v1);
        std::set<std::string> now = names_in(dir);
        for (const auto& name : stale) CHECK(now.count(name) == 0);
        for (const auto& name : kept) CHECK(now.count(name) == 1);
        CHECK(copies_in(dir).size() == 1);  // its own
        CHECK(names_in(dir / "shipped") == std::set<std::string>{"README"});
    }
    // Its own copy went with it; the operator's directory and files stay.
    std::set<std::string> expected(kept.begin(), kept.end());
    expected.insert("shipped");
    CHECK(names_in(dir) == expected);
}

TEST_CASE("a directory otpp made is removed by the owner after a killed one", "[code][private_dir]") {
    TempBase base;
    const fs::path dir = base.path / "private";
    // What a killed owner leaves: the lock file that says otpp made the
    // directory, a copy, a shipped file.
    touch(dir / ".lock", "created by otpp\n");
    touch(dir / "counter-1.0.0-0-0123456789abcdef.so");
    touch(dir / "shipped" / "77-1-counter.so");
    {
        code::ModuleTable modules;
        modules.set_private_dir(dir);
        modules.load(counter_file::v1);
        CHECK(copies_in(dir).size() == 1);
    }
    CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("tables sharing a directory: none deletes another's copies, the last one out removes it",
          "[code][private_dir]") {
    TempBase base;
    const fs::path dir = base.path / "private";
    auto first = std::make_unique<code::ModuleTable>();  // makes the directory
    first->set_private_dir(dir);
    first->load(counter_file::v1);
    const std::vector<std::string> firsts = copies_in(dir);
    REQUIRE(firsts.size() == 1);
    {
        code::ModuleTable second;  // the first uses it: nothing is stale
        second.set_private_dir(dir);
        second.load(counter_file::v2);
        CHECK(copies_in(dir).size() == 2);
    }
    CHECK(copies_in(dir) == firsts);  // the second took only its own
    CHECK(mapped(firsts.front()));

    auto third = std::make_unique<code::ModuleTable>();
    third->set_private_dir(dir);
    third->load(counter_file::v3);
    first.reset();  // the third still uses it: the first takes only its own
    const std::vector<std::string> thirds = copies_in(dir);
    CHECK(thirds.size() == 1);
    CHECK(thirds != firsts);
    third.reset();  // the last user: the directory otpp made goes
    CHECK_FALSE(fs::exists(dir));
}
