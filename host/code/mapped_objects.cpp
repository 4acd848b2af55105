#include "mapped_objects.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string_view>
#include <system_error>

namespace otpp::code {

namespace {

[[noreturn]] void throw_errno(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

FileIdentity identity_of(const struct stat& st, std::string file_name) {
    return FileIdentity{major(st.st_dev), minor(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                        std::move(file_name)};
}

std::string read_maps() {
    int fd = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_errno("cannot open /proc/self/maps");
    std::string text;
    std::size_t used = 0;
    for (;;) {
        if (text.size() - used < 16384) text.resize(used + 65536);
        ssize_t n = ::read(fd, text.data() + used, text.size() - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            ::close(fd);
            errno = saved;
            throw_errno("cannot read /proc/self/maps");
        }
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text.resize(used);
    return text;
}

template <typename T>
bool take_number(std::string_view& s, T& value, int base, char terminator) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
    if (ec != std::errc() || end == s.data() + s.size() || *end != terminator) return false;
    s.remove_prefix(static_cast<std::size_t>(end - s.data()) + 1);
    return true;
}

struct MapsLine {
    std::uintptr_t begin = 0, end = 0;
    std::uint32_t dev_major = 0, dev_minor = 0;
    std::uint64_t inode = 0;
    std::string_view path;
};

// "begin-end perms offset major:minor inode   path"; false for a line that
// does not have this shape (none should).
bool parse_line(std::string_view s, MapsLine& line) {
    std::uint64_t offset = 0;
    if (!take_number(s, line.begin, 16, '-') || !take_number(s, line.end, 16, ' ')) return false;
    std::size_t space = s.find(' ');
    if (space == std::string_view::npos) return false;
    s.remove_prefix(space + 1);  // perms
    if (!take_number(s, offset, 16, ' ') || !take_number(s, line.dev_major, 16, ':') ||
        !take_number(s, line.dev_minor, 16, ' ')) {
        return false;
    }
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), line.inode, 10);
    if (ec != std::errc()) return false;
    s.remove_prefix(static_cast<std::size_t>(end - s.data()));
    std::size_t path_start = s.find_first_not_of(' ');
    line.path = path_start == std::string_view::npos ? std::string_view() : s.substr(path_start);
    return true;
}

// The kernel escapes '\n' in paths as "\012" (and nothing else).
std::string unescape(std::string_view path) {
    std::string out;
    out.reserve(path.size());
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (path.compare(i, 4, "\\012") == 0) {
            out += '\n';
            i += 3;
        } else {
            out += path[i];
        }
    }
    return out;
}

std::string_view last_component(std::string_view path) {
    std::size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

FileIdentity identify_file(int fd, std::string file_name) {
    struct stat st{};
    if (::fstat(fd, &st) != 0) throw_errno("fstat");
    return identity_of(st, std::move(file_name));
}

FileIdentity identify_file(const std::filesystem::path& file, bool match_by_name) {
    struct stat st{};
    if (::stat(file.c_str(), &st) != 0) throw_errno(("stat " + file.string()).c_str());
    return identity_of(st, match_by_name ? file.filename().string() : std::string());
}

std::vector<Mapping> mappings_of(const FileIdentity& file) {
    constexpr std::string_view deleted_suffix = " (deleted)";
    const std::string text = read_maps();
    std::vector<Mapping> found;
    std::string_view rest = text;
    while (!rest.empty()) {
        std::size_t eol = rest.find('\n');
        std::string_view raw = rest.substr(0, eol);
        rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);

        MapsLine line;
        if (!parse_line(raw, line) || line.path.empty() || line.path.front() != '/') continue;
        std::string path = unescape(line.path);
        bool deleted = path.size() > deleted_suffix.size() && path.ends_with(deleted_suffix);
        if (deleted) path.resize(path.size() - deleted_suffix.size());

        bool same_inode = file.inode != 0 && line.inode == file.inode && line.dev_major == file.dev_major &&
                          line.dev_minor == file.dev_minor;
        bool same_name = !file.file_name.empty() && last_component(path) == file.file_name;
        if (same_inode || same_name) found.push_back(Mapping{line.begin, line.end, std::move(path), deleted});
    }
    return found;
}

}  // namespace otpp::code
