// Cookie resolution: configuration, OTPP_COOKIE, ~/.erlang.cookie (created
// like erl creates it, refused when others can read it). Every test uses a
// temporary HOME.
#include <catch2/catch.hpp>

#include "dist_peer.hpp"

#include <cookie.hpp>

#include <fstream>
#include <sys/stat.h>
#include <thread>

using namespace otpp::dist;
using namespace otpp::dist::test;
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, const std::string& text, mode_t mode) {
    {
        std::ofstream out(p, std::ios::binary);
        out << text;
    }
    REQUIRE(::chmod(p.c_str(), mode) == 0);
}

mode_t mode_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

std::string cookie_error(const CookieOptions& o) {
    try {
        resolve_cookie(o);
    } catch (const CookieError& e) {
        return e.what();
    }
    return "<no error>";
}

}  // namespace

TEST_CASE("the configuration's cookie comes first", "[cookie]") {
    TempDir home;
    ScopedEnv env("OTPP_COOKIE", "FROMENV");
    write_file(home.path() / ".erlang.cookie", "FROMFILE", 0400);
    Cookie c = resolve_cookie(CookieOptions{.explicit_cookie = "FROMCONFIG", .home = home.path()});
    CHECK(c.value() == "FROMCONFIG");
    CHECK(c.source() == Cookie::Source::explicit_config);
    CHECK(c.describe() == "the configuration");
}

TEST_CASE("OTPP_COOKIE comes before the file", "[cookie]") {
    TempDir home;
    ScopedEnv env("OTPP_COOKIE", "FROMENV");
    write_file(home.path() / ".erlang.cookie", "FROMFILE", 0400);
    Cookie c = resolve_cookie(CookieOptions{.home = home.path()});
    CHECK(c.value() == "FROMENV");
    CHECK(c.source() == Cookie::Source::environment);
    CHECK(c.describe() == "OTPP_COOKIE");
}

TEST_CASE("an existing cookie file is read as erl reads it", "[cookie]") {
    TempDir home;
    ScopedEnv env("OTPP_COOKIE", std::nullopt);
    const fs::path file = home.path() / ".erlang.cookie";
    SECTION("a trailing newline is not part of the cookie") {
        write_file(file, "SECRETCOOKIE\n", 0400);
        Cookie c = resolve_cookie(CookieOptions{.home = home.path()});
        CHECK(c.value() == "SECRETCOOKIE");
        CHECK(c.source() == Cookie::Source::file);
        CHECK(c.file() == file);
        CHECK(c.describe() == file.string());
    }
    SECTION("mode 0600 is fine") {
        write_file(file, "ABC\r\n \n", 0600);
        CHECK(resolve_cookie(CookieOptions{.home = home.path()}).value() == "ABC");
    }
    SECTION("bad characters are refused") {
        write_file(file, "ABC\nDEF", 0400);
        CHECK_THAT(cookie_error(CookieOptions{.home = home.path()}), Catch::Contains("bad characters"));
    }
    SECTION("an empty file is refused") {
        write_file(file, "\n", 0400);
        CHECK_THAT(cookie_error(CookieOptions{.home = home.path()}), Catch::Contains("holds no cookie"));
    }
    SECTION("HOME is used when no home is given") {
        write_file(file, "VIAHOME", 0400);
        ScopedEnv h("HOME", home.path().string());
        CHECK(resolve_cookie().value() == "VIAHOME");
    }
}

TEST_CASE("a cookie file readable by group or others is refused with the file and its mode in the error", "[cookie]") {
    TempDir home;
    ScopedEnv env("OTPP_COOKIE", std::nullopt);
    const fs::path file = home.path() / ".erlang.cookie";
    write_file(file, "SECRETCOOKIE", 0644);
    std::string msg = cookie_error(CookieOptions{.home = home.path()});
    CHECK_THAT(msg, Catch::Contains(file.string()));
    CHECK_THAT(msg, Catch::Contains("mode 0644"));
    CHECK_THAT(msg, Catch::Contains("accessible by its owner only"));
    // The secret is never in a message.
    CHECK_THAT(msg, !Catch::Contains("SECRETCOOKIE"));
    REQUIRE(::chmod(file.c_str(), 0440) == 0);
    CHECK_THAT(cookie_error(CookieOptions{.home = home.path()}), Catch::Contains("mode 0440"));
}

TEST_CASE("a missing cookie file is created like erl creates it: 20 uppercase letters and mode 0400", "[cookie]") {
    TempDir home;
    ScopedEnv env("OTPP_COOKIE", std::nullopt);
    const fs::path file = home.path() / ".erlang.cookie";
    Cookie c = resolve_cookie(CookieOptions{.home = home.path()});
    CHECK(c.source() == Cookie::Source::created_file);
    CHECK(c.describe() == file.string() + " (created)");
    REQUIRE(fs::is_regular_file(file));
    CHECK(mode_of(file) == 0400);
    REQUIRE(c.value().size() == 20);
    for (char ch : c.value()) CHECK((ch >= 'A' && ch <= 'Z'));
    std::ifstream in(file);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(content == c.value());
    // No temporary file is left beside it.
    CHECK(std::distance(fs::directory_iterator(home.path()), fs::directory_iterator{}) == 1);
    // The next resolution reads the same cookie.
    Cookie again = resolve_cookie(CookieOptions{.home = home.path()});
    CHECK(again.source() == Cookie::Source::file);
    CHECK(again.value() == c.value());
}

TEST_CASE("processes racing to create the cookie file all get the same cookie", "[cookie]") {
    TempDir home;
    ScopedEnv env("OTPP_COOKIE", std::nullopt);
    std::vector<std::string> got(8);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < got.size(); ++i)
        threads.emplace_back([&, i] { got[i] = resolve_cookie(CookieOptions{.home = home.path()}).value(); });
    for (auto& t : threads) t.join();
    for (auto& g : got) CHECK(g == got[0]);
    CHECK(got[0].size() == 20);
}

TEST_CASE("explicit and environment cookies are checked", "[cookie]") {
    TempDir home;
    {
        ScopedEnv env("OTPP_COOKIE", "");
        CHECK_THAT(cookie_error(CookieOptions{.home = home.path()}), Catch::Contains("the cookie from OTPP_COOKIE is empty"));
    }
    ScopedEnv env("OTPP_COOKIE", std::nullopt);
    CHECK_THAT(cookie_error(CookieOptions{.explicit_cookie = "a\tb", .home = home.path()}),
               Catch::Contains("not printable ASCII"));
    CHECK_THAT(cookie_error(CookieOptions{.explicit_cookie = std::string(256, 'A'), .home = home.path()}),
               Catch::Contains("longer than 255 bytes"));
    // Nothing was created on the way.
    CHECK_FALSE(fs::exists(home.path() / ".erlang.cookie"));
}

TEST_CASE("a cookie file that is not a regular file is refused", "[cookie]") {
    TempDir home;
    ScopedEnv env("OTPP_COOKIE", std::nullopt);
    fs::create_directory(home.path() / ".erlang.cookie");
    CHECK_THAT(cookie_error(CookieOptions{.home = home.path()}), Catch::Contains("not a regular file"));
}
