// One loaded plugin: a shared library holding one behaviour module, loaded so
// that it can really be unloaded again.
//
// load() validates everything it can before anything changes (the file, its
// ELF headers, what would keep it from ever being unloaded), then copies the
// file to a fresh private path and dlopens the copy with RTLD_NOW|RTLD_LOCAL.
// A fresh copy each time because glibc returns the already loaded handle for
// the same path, a hard link or a symlink to it (so a new version would never
// be seen), and because an installer overwriting a mapped .so in place crashes
// the host; the private copy is never written again once mapped. RTLD_LOCAL so
// two versions of one module each bind to their own symbols.
//
// Any failure undoes what was done (dlclose, delete the copy) and throws
// LoadError naming the file the caller gave and the reason, for example
//   cannot load plugins/x.so: SDK ABI version 2, this host speaks 1
//
// unload() dlcloses and then checks with the kernel (/proc/self/maps) that the
// copy is no longer mapped: glibc's dlclose can silently keep a library, and a
// library that stays mapped is reported, never assumed gone.
//
// Nothing returned or thrown here points into the plugin except descriptor()
// .callbacks and symbol(): names, versions and messages are copied out before
// any dlclose.
//
// Thread safety: load() may run on several threads at once (each gets its own
// copy and handle). A PluginLibrary's accessors are immutable after load and
// safe from any thread; unload() and symbol() serialize on an internal mutex.
// What blocks: load() reads and copies the whole file and runs the plugin's
// static constructors inside dlopen; unload() runs its static destructors
// inside dlclose and reads /proc/self/maps. Both also wait for glibc's loader
// lock, which every dlopen/dlclose in the process takes. Call them from a
// plain thread (the code server's), not from an otpp process: they block the
// OS thread, and plugin constructors may need more than a fiber's stack.
#pragma once

#include "mapped_objects.hpp"

#include "otpp/error.hpp"
#include "otpp/export.hpp"
#include "otpp/module.hpp"

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otpp::code {

// A plugin could not be loaded. The host is unchanged: nothing of the plugin
// stays mapped (else what() says so) and no private copy is left behind.
class OTPP_API LoadError : public otpp::Error {
public:
    LoadError(const std::filesystem::path& file, std::string reason);
    LoadError(const LoadError&) = default;
    LoadError& operator=(const LoadError&) = default;
    ~LoadError() override;

    // The file as the caller named it.
    const std::filesystem::path& file() const noexcept { return file_; }
    // what() without the "cannot load <file>: " prefix.
    const std::string& reason() const noexcept { return reason_; }

private:
    std::filesystem::path file_;
    std::string reason_;
};

struct LoadOptions {
    // Where private copies go; created if missing. Required. The copies are
    // named <stem>-<n>-<16 hex digits>.so (written first as .tmp).
    std::filesystem::path private_dir;
    // Load a library even if its ELF says it may never be unloadable (see
    // HygieneProblem); it is then marked unpurgeable().
    bool allow_unpurgeable = false;
};

// Is `file_name` the name of a private copy load() makes (or of one it was
// writing)? Only such files may be deleted from a private directory.
OTPP_API bool is_private_copy_name(std::string_view file_name) noexcept;

// Something in the library's .dynsym that keeps glibc from unmapping it.
struct OTPP_API HygieneProblem {
    enum class Kind {
        gnu_unique,               // defined STB_GNU_UNIQUE symbols: never unmapped
        thread_local_destructors  // __cxa_thread_atexit*: kept while a thread that touched one lives
    };
    Kind kind;
    std::vector<std::string> symbols;

    // E.g. "has STB_GNU_UNIQUE symbols (it could never be unloaded): _ZZ...;
    // rebuild it with otpp_add_plugin() or -fno-gnu-unique".
    std::string describe() const;
};

struct UnloadResult {
    // True only if the kernel no longer maps the private copy. False when it
    // stays mapped, or when that could not be checked; `detail` says which.
    bool unmapped = false;
    std::string detail;
};

class OTPP_API PluginLibrary {
public:
    // Throws LoadError. See the top of this file for what it checks and does.
    static std::shared_ptr<PluginLibrary> load(const std::filesystem::path& file, const LoadOptions& options);

    PluginLibrary(const PluginLibrary&) = delete;
    PluginLibrary& operator=(const PluginLibrary&) = delete;
    // Unloads if unload() was not called; if the library then stays mapped,
    // says so on stderr (a destructor has no one else to tell).
    ~PluginLibrary();

    // A host-owned copy of the descriptor: name and version point at
    // module_name() and version() and stay valid; `callbacks` points into the
    // plugin and is valid only until unload().
    const ModuleDescriptor& descriptor() const noexcept { return descriptor_; }
    const std::string& module_name() const noexcept { return module_name_; }
    const std::string& version() const noexcept { return version_; }
    // The file load() was given, as given.
    const std::filesystem::path& source_file() const noexcept { return source_file_; }
    // The private copy that is mapped; deleted by unload().
    const std::filesystem::path& private_copy() const noexcept { return private_copy_; }
    // Loaded with LoadOptions::allow_unpurgeable despite hygiene problems.
    bool unpurgeable() const noexcept { return !hygiene_problems_.empty(); }
    const std::vector<HygieneProblem>& hygiene_problems() const noexcept { return hygiene_problems_; }

    // dlsym in this library's handle (which also searches the libraries it
    // depends on). nullptr if not found or after unload(). The pointer is
    // valid until unload().
    void* symbol(const char* name) const;

    // dlclose, check the copy is no longer mapped, delete the copy. Idempotent:
    // later calls return the first result. Never throws for the plugin's sake;
    // may throw std::bad_alloc.
    UnloadResult unload();

private:
    PluginLibrary() = default;

    std::filesystem::path source_file_;
    std::filesystem::path private_copy_;
    FileIdentity copy_identity_;
    std::string module_name_;
    std::string version_;
    ModuleDescriptor descriptor_{};
    std::vector<HygieneProblem> hygiene_problems_;

    mutable std::mutex mutex_;
    void* handle_ = nullptr;                      // guarded by mutex_
    std::optional<UnloadResult> unload_result_;   // guarded by mutex_
};

}  // namespace otpp::code
