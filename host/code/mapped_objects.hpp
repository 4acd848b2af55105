// Is this file still mapped into this process? Asked after dlclose, to tell a
// library that was really unloaded from one glibc silently kept.
//
// The answer comes from /proc/self/maps, the kernel's own list of this
// process's mappings, not from dl_iterate_phdr. dl_iterate_phdr reports what
// ld.so believes is loaded, and the question is exactly whether ld.so did what
// we asked; /proc/self/maps also sees mappings ld.so does not own (a plugin
// that mmap'ed its own file, a loader bug). It costs more (reading it is a
// 40–120 µs syscall sequence here), which is fine for a check made once per
// unload.
//
// A mapping matches a file when either
//   - its device and inode are the file's, as fstat saw them, or
//   - its path's last component (after dropping " (deleted)") is the file's
//     name, when one is given.
// The name rule exists because on overlayfs the kernel names a mapping by the
// underlying file, whose device and inode differ from what stat() shows; it is
// only sound for names that are unique, like the loader's private copies.
// Matching by inode keeps working after the file was unlinked: a mapped inode
// cannot be reused.
//
// Thread-safe (no shared state). /proc/self/maps is read in several read()
// calls and is not an atomic snapshot; a mapping that exists throughout the
// read is always reported, which is the guarantee the unload check needs.
#pragma once

#include "otpp/export.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace otpp::code {

struct FileIdentity {
    std::uint32_t dev_major = 0;
    std::uint32_t dev_minor = 0;
    std::uint64_t inode = 0;
    std::string file_name;  // last path component; empty: match by device and inode only
};

struct Mapping {
    std::uintptr_t begin = 0;
    std::uintptr_t end = 0;
    std::string path;       // as the kernel prints it, without " (deleted)"
    bool deleted = false;   // the kernel printed " (deleted)": the file was unlinked
};

// Identity of an open file (by fstat), named `file_name` for the name rule.
// Throws std::system_error.
OTPP_API FileIdentity identify_file(int fd, std::string file_name);

// Identity of the file at `file` (follows symlinks). Throws std::system_error.
OTPP_API FileIdentity identify_file(const std::filesystem::path& file, bool match_by_name);

// Every mapping of the file in this process, in address order.
// Throws std::system_error if /proc/self/maps cannot be read.
OTPP_API std::vector<Mapping> mappings_of(const FileIdentity& file);

}  // namespace otpp::code
