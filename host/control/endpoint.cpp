#include "endpoint.hpp"

#include <otpp/error.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace otpp::control {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int e) { return std::strerror(e); }

bool fill_address(const fs::path& path, sockaddr_un& addr) {
    const std::string& s = path.native();
    if (s.size() >= sizeof addr.sun_path) return false;
    std::memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
    return true;
}

}  // namespace

fs::path socket_path(const fs::path& dir, const std::string& node) {
    fs::path p = dir / (node + ".sock");
    sockaddr_un addr;
    if (!fill_address(p, addr))
        throw Error("control socket path too long (" + std::to_string(p.native().size()) + " bytes, at most " +
                    std::to_string(sizeof addr.sun_path - 1) + "): " + p.string() +
                    "; choose a shorter [control] runtime_dir");
    return p;
}

void prepare_runtime_dir(const fs::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) throw Error("control runtime_dir is not a directory: " + dir.string());
        // Someone else's, or open to others: they could replace our socket
        // and answer the operator's commands (/tmp/otpp-<uid> is guessable).
        if (st.st_uid != ::geteuid())
            throw Error("control runtime_dir " + dir.string() + " belongs to uid " + std::to_string(st.st_uid) +
                        ", not to this host's uid " + std::to_string(::geteuid()));
        if ((st.st_mode & 077) != 0)
            throw Error("control runtime_dir " + dir.string() + " is open to other users (mode " +
                        std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
                        std::to_string(st.st_mode & 7) + "); it must be 0700");
        return;
    }
    // Create each missing component 0700: nobody else needs to look inside.
    fs::path partial;
    for (const auto& part : dir) {
        partial /= part;
        if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST)
            throw Error("cannot create the control runtime_dir " + partial.string() + ": " + errno_text(errno));
    }
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw Error("cannot create the control runtime_dir " + dir.string());
}

int connect_to(const fs::path& path) {
    sockaddr_un addr;
    if (!fill_address(path, addr)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    for (;;) {
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
        if (errno == EINTR) continue;
        const int e = errno;
        ::close(fd);
        errno = e;
        return -1;
    }
}

int listen_at(const fs::path& path, int backlog) {
    sockaddr_un addr;
    if (!fill_address(path, addr)) throw Error("control socket path too long: " + path.string());
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            throw Error("control socket path exists and is not a socket: " + path.string() + "; not touching it");
        int probe = connect_to(path);
        if (probe >= 0) {
            ::close(probe);
            throw Error("another host is serving " + path.string() +
                        " (a node with this name is already running)");
        }
        // Nobody listens: the socket of a host that died.
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            throw Error("cannot remove the stale control socket " + path.string() + ": " + errno_text(errno));
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw Error("control socket: " + errno_text(errno));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const int e = errno;
        ::close(fd);
        throw Error("cannot bind the control socket " + path.string() + ": " + errno_text(e));
    }
    // 0600 before listen(): nobody can connect before the mode is right.
    if (::chmod(path.c_str(), 0600) != 0 || ::listen(fd, backlog) != 0) {
        const int e = errno;
        ::close(fd);
        ::unlink(path.c_str());
        throw Error("cannot listen on the control socket " + path.string() + ": " + errno_text(e));
    }
    return fd;
}

}  // namespace otpp::control
