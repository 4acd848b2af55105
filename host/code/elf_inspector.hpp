// What a plugin file is, read from its ELF headers before dlopen runs any of
// its code.
//
// dlopen runs a library's constructors and binds its symbols before it returns,
// so anything that makes a library unloadable must be found by reading the
// file, not by loading it. Two things do, on glibc:
//   - a defined STB_GNU_UNIQUE symbol: once bound, glibc marks the library
//     NODELETE and every later dlclose is a silent no-op;
//   - a reference to __cxa_thread_atexit(_impl): a thread_local object with a
//     destructor registers it there, and glibc keeps the library mapped while
//     any thread that touched such an object is alive.
// Both are properties of the file (its .dynsym), so they are found here.
//
// Only ELF64 for this host's machine and byte order is accepted: anything else
// could not be loaded into this process anyway, and saying why beats dlerror's
// "invalid ELF header".
//
// The file is read with pread through a descriptor the caller owns, never
// mapped: a file truncated under us then yields an error, not SIGBUS. Every
// offset and size taken from the file is bounds-checked before use.
//
// Thread-safe (no shared state); blocks on file I/O only.
#pragma once

#include "otpp/export.hpp"

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace otpp::code {

struct ElfFacts {
    // Defined symbols with binding STB_GNU_UNIQUE, in .dynsym order.
    std::vector<std::string> gnu_unique_symbols;
    // Undefined symbols named __cxa_thread_atexit*, in .dynsym order.
    std::vector<std::string> thread_atexit_references;
};

// The file is not a shared object this process could load. what() is the
// reason alone ("not an ELF file"), without the file's name: the caller knows
// which name the user gave it.
class OTPP_API ElfError : public std::runtime_error {
public:
    explicit ElfError(const std::string& reason);
    ElfError(const ElfError&) = default;
    ElfError& operator=(const ElfError&) = default;
    ~ElfError() override;
};

// Inspects the open regular file `fd` of `file_size` bytes (the caller has
// fstat'ed it). Does not move the file offset. Throws ElfError.
OTPP_API ElfFacts inspect_elf(int fd, std::uint64_t file_size);

// Opens `file` and inspects it. Throws ElfError, also when it cannot be opened.
OTPP_API ElfFacts inspect_elf(const std::filesystem::path& file);

}  // namespace otpp::code
