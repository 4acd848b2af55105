// Helpers shared by the config loader tests.
#pragma once

#include "host_config.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace config_test {

namespace fs = std::filesystem;

inline fs::path data_dir() { return fs::path(OTPP_CONFIG_TEST_DATA); }

// A fresh directory, removed with everything in it at scope exit.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "otpp-config-test-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const fs::path& path() const { return path_; }
    fs::path operator/(const fs::path& p) const { return path_ / p; }
    fs::path mkdir(const fs::path& rel) const {
        fs::create_directories(path_ / rel);
        return path_ / rel;
    }
    fs::path write(const fs::path& rel, std::string_view text) const {
        fs::create_directories((path_ / rel).parent_path());
        std::ofstream(path_ / rel, std::ios::binary) << text;
        return path_ / rel;
    }

private:
    fs::path path_;
};

// Sets (or, with nullopt, unsets) an environment variable for one scope.
class ScopedEnv {
public:
    ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value) ::setenv(name, value->c_str(), 1);
        else ::unsetenv(name);
    }
    ~ScopedEnv() {
        if (old_) ::setenv(name_, old_->c_str(), 1);
        else ::unsetenv(name_);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

// parse_host_config(text, name), expecting a ConfigError; returns it.
inline otpp::host::ConfigError config_error(std::string_view text, std::string name = "host.toml") {
    try {
        otpp::host::parse_host_config(text, name);
    } catch (const otpp::host::ConfigError& e) {
        return e;
    }
    FAIL("no ConfigError for:\n" << text);
    throw;  // unreachable
}

}  // namespace config_test

// Checks file, position and key of a ConfigError, and prints what() on failure.
#define CHECK_CONFIG_ERROR(err, file_, line_, column_, key_)   \
    do {                                                        \
        INFO("what(): " << (err).what());                       \
        CHECK((err).file() == (file_));                         \
        CHECK((err).line() == (line_));                         \
        CHECK((err).column() == (column_));                     \
        CHECK((err).key() == (key_));                           \
    } while (0)
