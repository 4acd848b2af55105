// The magic cookie, found the way erl finds it, in this order:
//
//   1. explicit: the configuration's cookie (erl -setcookie);
//   2. the environment variable OTPP_COOKIE;
//   3. the file ~/.erlang.cookie ($HOME, else the passwd entry's home).
//
// The file must be a regular file accessible by its owner only (no bit of
// mode 077), as erl insists (auth.erl); otherwise resolution fails with an
// error naming the file and its mode. A missing file is created as erl
// creates it: 20 random uppercase letters (from the system's CSPRNG), mode
// 0400. It is written to a temporary file first and linked into place, so a
// concurrent reader never sees it half written; if two processes create it at
// once, both end up with the one that was linked first.
//
// The file's contents are checked as auth.erl checks them: printable ASCII
// (space to '~'), optionally followed by newlines, carriage returns and
// spaces only. Explicit and environment cookies must be printable ASCII too.
// A cookie is at most 255 bytes (it is an atom in erl).
//
// The cookie's value is never logged, and never part of an error message or
// of Cookie::describe().
//
// Errors are CookieError exceptions. Everything here blocks on the file
// system only (no network).
#pragma once

#include <otpp/error.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace otpp::dist {

class CookieError : public otpp::Error {
public:
    explicit CookieError(std::string what);
};

class Cookie {
public:
    enum class Source {
        explicit_config,  // given by the configuration
        environment,      // OTPP_COOKIE
        file,             // an existing ~/.erlang.cookie
        created_file,     // ~/.erlang.cookie, created just now
    };

    Cookie(std::string value, Source source, std::filesystem::path file = {}, std::string env_var = "OTPP_COOKIE");

    // The secret. Do not log it.
    const std::string& value() const noexcept { return value_; }
    Source source() const noexcept { return source_; }
    // The cookie file (file and created_file only).
    const std::filesystem::path& file() const noexcept { return file_; }
    // Where it came from, without the value: "the configuration",
    // "OTPP_COOKIE", "/root/.erlang.cookie", "/root/.erlang.cookie (created)".
    std::string describe() const;

private:
    std::string value_;
    Source source_;
    std::filesystem::path file_;
    std::string env_var_;
};

struct CookieOptions {
    // The configuration's cookie (step 1), if any.
    std::optional<std::string> explicit_cookie;
    // The home directory holding .erlang.cookie; default $HOME, else the
    // passwd entry of the current user.
    std::optional<std::filesystem::path> home;
    // The environment variable consulted in step 2.
    std::string env_var = "OTPP_COOKIE";
};

// Resolves the cookie (see above). Throws CookieError: a cookie with bad
// characters or too long; an empty OTPP_COOKIE (set but empty is an error,
// not "unset"); a cookie file that is not a regular file, is accessible by
// group or others ("cookie file /home/u/.erlang.cookie has mode 0644: it must
// be accessible by its owner only (chmod 400 /home/u/.erlang.cookie)"),
// cannot be read or created.
Cookie resolve_cookie(const CookieOptions& options = {});

// The path resolve_cookie would use: <home>/.erlang.cookie.
std::filesystem::path cookie_file_path(const std::optional<std::filesystem::path>& home = std::nullopt);

}  // namespace otpp::dist
