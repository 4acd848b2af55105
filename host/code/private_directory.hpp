// The directory where a ModuleTable keeps its private copies of loaded
// plugins (plugin_library.hpp: one copy per loaded version, deleted when that
// version is unloaded) and the plugin files other nodes ship to it
// (code_agent.hpp, in shipped/).
//
// A host that is killed (SIGKILL, a crashing plugin) deletes none of them, so
// whoever uses the directory next does. Every table using the directory holds
// a shared flock on its ".lock" file for as long as it uses it. A claim that
// can take the lock exclusively is the directory's only user: every copy in
// it is stale and is deleted. Otherwise (a configuration may give two hosts
// one directory) nothing is deleted. Only names the loader and the code agent
// make are ever deleted (is_private_copy_name(); shipped/<pid>-<n>-<name>),
// so a directory that also holds other files (say, by a configuration
// mistake, the plugin directory itself) loses none of them.
//
// Releasing it (the destructor, once the table's versions are unloaded): if
// no other table uses the directory, the stale files go again, then the lock
// file, then the directory if otpp created it (this claim, or a killed
// owner's: the lock file says) and nothing else is left in it. A test or a
// host that exits cleanly leaves nothing behind in $TMPDIR; a directory an
// operator made stays.
//
// Not thread-safe: its ModuleTable serialises its use. Both ends block on
// file-system calls (a directory listing, a few unlinks), and a claim waits
// while another claim or release deletes stale files.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace otpp::code {

class PrivateDirectory {
public:
    // Creates `path` if missing and locks it (see above). Never throws:
    // usable() says whether the directory exists, error() why not.
    explicit PrivateDirectory(std::filesystem::path path);
    ~PrivateDirectory();
    PrivateDirectory(const PrivateDirectory&) = delete;
    PrivateDirectory& operator=(const PrivateDirectory&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    bool usable() const noexcept { return error_.empty(); }
    const std::string& error() const noexcept { return error_; }
    // Stale files deleted when it was claimed (0 if another table uses it).
    std::size_t stale_removed() const noexcept { return stale_removed_; }

private:
    std::size_t remove_stale() noexcept;

    std::filesystem::path path_;
    std::string error_;
    int lock_fd_ = -1;  // holds a shared lock
    std::size_t stale_removed_ = 0;
};

}  // namespace otpp::code
