// The module descriptor: what a plugin exports so the host can load it.
//
// A plugin is one shared library holding one behaviour module. It exports a
// single C function, `otpp_module_descriptor`, returning a pointer to a
// ModuleDescriptor with static storage. Plugins never write this by hand:
// OTPP_GEN_SERVER_MODULE (otpp/gen_server.hpp) defines it.
//
// The host refuses a library (and stays up) when the symbol is missing, the
// magic or size is wrong, the ABI version differs from its own, the module
// name is not a valid atom, the version string is empty, or the behaviour kind
// is unknown. The layout below is frozen for a given sdk_abi_version.
#pragma once

#include <cstdint>

namespace otpp {

// Bumped whenever anything a plugin compiles against changes layout or meaning.
inline constexpr std::uint32_t sdk_abi_version = 3;  // 2: code_change can fail; downgrade. 3: From.alias
inline constexpr std::uint32_t module_magic = 0x5050544fu;  // "OTPP" little-endian

enum class BehaviourKind : std::uint32_t { gen_server = 1, supervisor = 2 };

struct ModuleDescriptor {
    std::uint32_t magic;            // module_magic
    std::uint32_t abi_version;      // sdk_abi_version the plugin was built with
    std::uint32_t descriptor_size;  // sizeof(ModuleDescriptor) at build time
    BehaviourKind kind;
    const char* name;               // the module name: an atom, [a-z][A-Za-z0-9_@]*, <= 255 bytes
    const char* version;            // free-form, non-empty, e.g. "1.2.0"
    const void* callbacks;          // kind-specific table, e.g. const GenServerCallbacks*
};

// The exported entry point (C linkage, default visibility).
using ModuleDescriptorFn = const ModuleDescriptor* (*)();
inline constexpr const char* module_descriptor_symbol = "otpp_module_descriptor";

}  // namespace otpp
