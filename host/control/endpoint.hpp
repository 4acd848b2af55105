// Where a node's control socket lives, and the two ends of a connection to it.
//
// The socket is `<runtime_dir>/<node name>.sock`. The host creates the
// directory (0700) if it is missing, refuses to start if a live host already
// answers on the path, removes a stale socket left by a host that died, and
// makes the socket 0600 before it listens. The peer's credentials are checked
// on every connection (server.hpp): same uid as the host, or root.
#pragma once

#include <filesystem>
#include <string>

namespace otpp::control {

// `<dir>/<node>.sock`. Throws otpp::Error if the path does not fit a
// sockaddr_un (107 bytes).
std::filesystem::path socket_path(const std::filesystem::path& dir, const std::string& node);

// Creates `dir` (and missing parents) with mode 0700. Throws otpp::Error if it
// cannot, or if `dir` exists and is not a directory.
void prepare_runtime_dir(const std::filesystem::path& dir);

// A listening socket at `path` (0600, close-on-exec, non-blocking). Throws
// otpp::Error if a live host answers there or the path is something else
// than a socket; a stale socket is removed first.
int listen_at(const std::filesystem::path& path, int backlog = 64);

// A connected socket (close-on-exec), or -1 with errno set.
int connect_to(const std::filesystem::path& path);

}  // namespace otpp::control
