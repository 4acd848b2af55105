#include "cookie.hpp"

#include <openssl/rand.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

namespace otpp::dist {

CookieError::CookieError(std::string what) : otpp::Error(std::move(what)) {}

namespace {

constexpr std::size_t max_cookie_bytes = 255;

std::string octal_mode(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

void check_printable(const std::string& value, const std::string& where) {
    if (value.empty()) throw CookieError("the cookie from " + where + " is empty");
    if (value.size() > max_cookie_bytes)
        throw CookieError("the cookie from " + where + " is longer than " + std::to_string(max_cookie_bytes) +
                          " bytes");
    for (char c : value)
        if (c < ' ' || c > '~')
            throw CookieError("the cookie from " + where +
                              " contains a character that is not printable ASCII (space to '~')");
}

// auth.erl's check_cookie/2: printable characters, then only \n \r and
// spaces. (Spaces before the first newline belong to the cookie, as in erl.)
std::string check_file_cookie(const std::string& contents, const std::string& file) {
    std::size_t i = 0;
    while (i < contents.size() && contents[i] >= ' ' && contents[i] <= '~') ++i;
    std::string cookie = contents.substr(0, i);
    for (; i < contents.size(); ++i) {
        char c = contents[i];
        if (c != '\n' && c != '\r' && c != ' ')
            throw CookieError("cookie file " + file +
                              " contains bad characters (only printable ASCII, then line breaks)");
    }
    if (cookie.empty()) throw CookieError("cookie file " + file + " holds no cookie (too short cookie string)");
    if (cookie.size() > max_cookie_bytes)
        throw CookieError("the cookie in " + file + " is longer than " + std::to_string(max_cookie_bytes) + " bytes");
    return cookie;
}

std::string random_uppercase(std::size_t n) {
    std::string out;
    while (out.size() < n) {
        unsigned char buf[32];
        if (RAND_bytes(buf, sizeof buf) != 1) throw CookieError("cannot get random bytes for a new cookie");
        for (unsigned char b : buf) {
            if (b >= 234) continue;  // 234 = 9 * 26: keep the letters uniform
            out.push_back(static_cast<char>('A' + b % 26));
            if (out.size() == n) break;
        }
    }
    return out;
}

std::string read_cookie_file(const std::filesystem::path& path) {
    const std::string file = path.string();
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw CookieError("cannot read cookie file " + file + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        throw CookieError("cannot stat cookie file " + file + ": " + std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw CookieError("cookie file " + file + " is not a regular file");
    }
    if (st.st_mode & 077) {
        ::close(fd);
        throw CookieError("cookie file " + file + " has mode " + octal_mode(st.st_mode) +
                          ": it must be accessible by its owner only (chmod 400 " + file + ")");
    }
    std::string contents;
    char buf[512];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            contents.append(buf, static_cast<std::size_t>(n));
            if (contents.size() > 64 * 1024) {
                ::close(fd);
                throw CookieError("cookie file " + file + " is too large to hold a cookie");
            }
            continue;
        }
        if (n == 0) break;
        if (errno == EINTR) continue;
        int e = errno;
        ::close(fd);
        throw CookieError("cannot read cookie file " + file + ": " + std::strerror(e));
    }
    ::close(fd);
    return check_file_cookie(contents, file);
}

// Writes a new cookie to a temporary file (0400) beside `path` and links it
// into place. Returns false if `path` appeared meanwhile (someone else
// created it): read theirs.
bool create_cookie_file(const std::filesystem::path& path) {
    const std::string file = path.string();
    const std::string cookie = random_uppercase(20);
    std::string tmp;
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
        tmp = file + ".tmp." + std::to_string(::getpid()) + "." + random_uppercase(8);
        fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
        if (fd < 0 && errno != EEXIST)
            throw CookieError("cannot create cookie file " + file + ": " + std::strerror(errno));
    }
    if (fd < 0) throw CookieError("cannot create cookie file " + file + ": no free temporary name");
    // The umask may have cleared bits but cannot have added any: make it
    // exactly 0400 as erl does.
    ::fchmod(fd, 0400);
    std::size_t done = 0;
    while (done < cookie.size()) {
        ssize_t n = ::write(fd, cookie.data() + done, cookie.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw CookieError("cannot write cookie file " + file + ": " + std::strerror(e));
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        throw CookieError("cannot write cookie file " + file + ": " + std::strerror(e));
    }
    int rc = ::link(tmp.c_str(), file.c_str());
    int e = errno;
    ::unlink(tmp.c_str());
    if (rc == 0) return true;
    if (e == EEXIST) return false;
    throw CookieError("cannot create cookie file " + file + ": " + std::strerror(e));
}

std::filesystem::path home_directory() {
    if (const char* h = std::getenv("HOME"); h && *h) return h;
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* result = nullptr;
    if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &result) == 0 && result && result->pw_dir &&
        *result->pw_dir)
        return result->pw_dir;
    throw CookieError("cannot find the home directory for .erlang.cookie: HOME is not set and uid " +
                      std::to_string(::getuid()) + " has no passwd entry");
}

}  // namespace

Cookie::Cookie(std::string value, Source source, std::filesystem::path file, std::string env_var)
    : value_(std::move(value)), source_(source), file_(std::move(file)), env_var_(std::move(env_var)) {}

std::string Cookie::describe() const {
    switch (source_) {
        case Source::explicit_config: return "the configuration";
        case Source::environment: return env_var_;
        case Source::file: return file_.string();
        case Source::created_file: return file_.string() + " (created)";
    }
    return "?";
}

std::filesystem::path cookie_file_path(const std::optional<std::filesystem::path>& home) {
    return (home ? *home : home_directory()) / ".erlang.cookie";
}

Cookie resolve_cookie(const CookieOptions& options) {
    if (options.explicit_cookie) {
        check_printable(*options.explicit_cookie, "the configuration");
        return Cookie(*options.explicit_cookie, Cookie::Source::explicit_config);
    }
    if (const char* env = std::getenv(options.env_var.c_str())) {
        std::string value = env;
        check_printable(value, options.env_var);
        return Cookie(std::move(value), Cookie::Source::environment, {}, options.env_var);
    }
    const std::filesystem::path path = cookie_file_path(options.home);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno != ENOENT) throw CookieError("cannot stat cookie file " + path.string() + ": " + std::strerror(errno));
        if (create_cookie_file(path)) return Cookie(read_cookie_file(path), Cookie::Source::created_file, path);
    }
    return Cookie(read_cookie_file(path), Cookie::Source::file, path);
}

}  // namespace otpp::dist
