// Loader test support: a private directory per test, and looking at
// /proc/self/maps independently of the code under test.
#pragma once

#include "code/plugin_library.hpp"
#include "plugin_files.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace otpp::test {

namespace fs = std::filesystem;

// A fresh directory, removed with everything in it at the end of the test.
// ctest runs tests in parallel, so each needs its own.
struct TempDir {
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "otpp-loader-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }

    code::LoadOptions options(bool allow_unpurgeable = false) const {
        return code::LoadOptions{path, allow_unpurgeable};
    }

    fs::path path;
};

// Lines of /proc/self/maps mentioning `needle` (a path or part of one).
inline std::vector<std::string> maps_lines_with(const std::string& needle) {
    std::ifstream maps("/proc/self/maps");
    REQUIRE(maps);
    std::vector<std::string> found;
    for (std::string line; std::getline(maps, line);) {
        if (line.find(needle) != std::string::npos) found.push_back(line);
    }
    return found;
}

inline std::vector<fs::path> files_in(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path());
    return files;
}

// The plugin's own exported function, called through its handle.
template <typename Fn>
Fn plugin_function(const code::PluginLibrary& library, const char* name) {
    void* address = library.symbol(name);
    REQUIRE(address != nullptr);
    return reinterpret_cast<Fn>(address);
}

using ProbeVersionFn = const char* (*)();

}  // namespace otpp::test
