#include "private_directory.hpp"

#include "plugin_library.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <system_error>

namespace otpp::code {

namespace fs = std::filesystem;

namespace {

constexpr const char* lock_name = ".lock";
constexpr const char* shipped_name = "shipped";  // code_agent.cpp's subdirectory
constexpr char created_mark[] = "created by otpp\n";
constexpr std::size_t mark_size = sizeof created_mark - 1;

// code_agent.cpp names a shipped file "<pid>-<n>-<name>".
bool is_shipped_file_name(std::string_view name) noexcept {
    for (int field = 0; field < 2; ++field) {
        std::size_t digits = 0;
        while (digits < name.size() && name[digits] >= '0' && name[digits] <= '9') ++digits;
        if (digits == 0 || digits == name.size() || name[digits] != '-') return false;
        name.remove_prefix(digits + 1);
    }
    return !name.empty();
}

// Deletes the regular files in `dir` that `ours` accepts; how many went.
template <typename Predicate>
std::size_t remove_files(const fs::path& dir, Predicate ours) noexcept {
    std::size_t removed = 0;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_error;
        if (!it->is_regular_file(type_error) || !ours(it->path().filename().native())) continue;
        if (::unlink(it->path().c_str()) == 0) ++removed;
    }
    return removed;
}

int flock_retrying(int fd, int operation) noexcept {
    int r;
    do r = ::flock(fd, operation);
    while (r != 0 && errno == EINTR);
    return r;
}

// Is the file `fd` is open on still the one named `path`? The last user
// unlinks the lock file as it lets go, so a lock won on the old one is none.
bool still_named(int fd, const fs::path& path) noexcept {
    struct stat held{}, named{};
    return ::fstat(fd, &held) == 0 && ::stat(path.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
           held.st_ino == named.st_ino;
}

bool marked_created(int fd) noexcept {
    char mark[sizeof created_mark] = {};
    ssize_t n = ::pread(fd, mark, sizeof mark, 0);
    return n == static_cast<ssize_t>(mark_size) && std::memcmp(mark, created_mark, mark_size) == 0;
}

}  // namespace

PrivateDirectory::PrivateDirectory(fs::path path) : path_(std::move(path)) {
    const fs::path lock = path_ / lock_name;
    bool created = false;
    // Each retry means another user removed the lock file or the directory
    // just then; bounded all the same (then: usable, unlocked, nothing swept).
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::error_code ec;
        if (fs::create_directories(path_, ec)) created = true;
        if (ec) {
            error_ = "cannot create private directory " + path_.string() + ": " + ec.message();
            return;
        }
        int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 && errno == ENOENT) continue;  // the last user removed the directory just now
        if (fd < 0) return;  // no lock file can be made: nothing is deleted, load() reports what fails
        if (flock_retrying(fd, LOCK_EX | LOCK_NB) == 0) {
            if (!still_named(fd, lock)) {
                ::close(fd);
                continue;
            }
            // Whether the directory is otpp's to remove is kept in the lock
            // file, for whichever user is the last: a directory an operator
            // made stays.
            if (created) (void)!::pwrite(fd, created_mark, mark_size, 0);
            stale_removed_ = remove_stale();
        }
        // Shared from here on (from exclusive: a conversion, which may let
        // another user's shared request in first; harmless).
        if (flock_retrying(fd, LOCK_SH) != 0 || !still_named(fd, lock)) {
            ::close(fd);
            continue;
        }
        lock_fd_ = fd;
        return;
    }
}

PrivateDirectory::~PrivateDirectory() {
    if (lock_fd_ < 0) return;
    // Exclusive only if no other table holds its shared lock. (A failed
    // conversion drops the shared lock too: it is let go here anyway.)
    if (flock_retrying(lock_fd_, LOCK_EX | LOCK_NB) == 0) {
        remove_stale();
        // Unlinked while still locked; a claim that opened it just before
        // sees that once it gets the lock (still_named()).
        ::unlink((path_ / lock_name).c_str());
        ::rmdir((path_ / shipped_name).c_str());  // only if empty
        if (marked_created(lock_fd_)) ::rmdir(path_.c_str());  // likewise
    }
    ::close(lock_fd_);
}

std::size_t PrivateDirectory::remove_stale() noexcept {
    return remove_files(path_, [](const std::string& name) { return is_private_copy_name(name); }) +
           remove_files(path_ / shipped_name, [](const std::string& name) { return is_shipped_file_name(name); });
}

}  // namespace otpp::code
