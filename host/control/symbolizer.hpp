// Names for code addresses: which object (executable, libotpp, a plugin's
// private copy) and which function, demangled.
//
// dladdr() only sees dynamic symbols, and plugins are built with hidden
// visibility (otpp_add_plugin), so almost nothing in a plugin has one. The
// symbolizer finds the object and its load bias with dladdr1(RTLD_DL_LINKMAP)
// and reads the object's ELF .symtab from its file (bounds-checked pread, as
// host/code/elf_inspector.cpp does), falling back to .dynsym and to dladdr's
// answer. Tables are cached per file (device, inode, size, mtime): a new
// plugin version is a new private copy, hence a new table.
//
// Thread-safe. Not async-signal-safe (it allocates and reads files): call it
// after a backtrace was captured, never in a signal handler.
#pragma once

#include <otpp/export.hpp>

#include <cstdint>
#include <string>

namespace otpp::control {

struct SymbolizedFrame {
    std::uintptr_t address = 0;
    std::string object;    // file of the mapped object ("" if unknown)
    std::string function;  // demangled name ("" if unknown)
    std::uintptr_t offset = 0;  // address - function start
};

// `address` is looked up as given: for a return address, pass address - 1 to
// name the call's function, not whatever follows it.
OTPP_API SymbolizedFrame symbolize(std::uintptr_t address);

// "name+0x12 (object)" or "0x7f... (object)".
OTPP_API std::string to_string(const SymbolizedFrame& frame);

}  // namespace otpp::control
