#include "plugin_library.hpp"

#include "elf_inspector.hpp"
#include "module_version.hpp"
#include "../runtime/preemption.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <vector>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <system_error>
#include <thread>

namespace otpp::code {

LoadError::LoadError(const std::filesystem::path& file, std::string reason)
    : Error("cannot load " + file.string() + ": " + reason), file_(file), reason_(std::move(reason)) {}
LoadError::~LoadError() = default;

namespace {

namespace fs = std::filesystem;

constexpr std::size_t max_name_bytes = 255;     // Erlang's atom limit, and otpp::Atom's
constexpr std::size_t max_version_bytes = 64;
constexpr std::size_t max_symbols_listed = 8;   // in messages; the rest are counted

std::string errno_text(int error) { return std::strerror(error); }

// dlopen and dlclose run the plugin's constructors and destructors under the
// dynamic loader's lock: its compiler-inserted checks must not switch fibers
// or kill there (host/runtime/preemption.hpp).
void* open_library(const char* path) {
    runtime::NoPreemption no_preemption;
    return ::dlopen(path, RTLD_NOW | RTLD_LOCAL);
}
int close_library(void* handle) {
    runtime::NoPreemption no_preemption;
    return ::dlclose(handle);
}

std::string join_symbols(const std::vector<std::string>& symbols) {
    std::string out;
    for (std::size_t i = 0; i < symbols.size() && i < max_symbols_listed; ++i) {
        if (i) out += ", ";
        out += symbols[i];
    }
    if (symbols.size() > max_symbols_listed) {
        out += " and " + std::to_string(symbols.size() - max_symbols_listed) + " more";
    }
    return out;
}

// Plugin-supplied text goes into messages quoted, with anything unprintable
// escaped, so a hostile or broken descriptor cannot garble a log line.
std::string quoted(std::string_view s) {
    constexpr std::size_t max_shown = 80;
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < max_shown; ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    if (s.size() > max_shown) out += "...";
    return out + "\"";
}


// Empty if the descriptor is acceptable, else the reason. Fields are checked
// in the order that gives the most useful message: a wrong magic means
// nothing else can be trusted, and a different ABI explains a different size.
std::string check_descriptor(const ModuleDescriptor* d) {
    if (!d) return std::string(module_descriptor_symbol) + "() returned null";
    if (d->magic != module_magic) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "bad descriptor magic 0x%08x (expected 0x%08x, \"OTPP\")", d->magic,
                      module_magic);
        return buf;
    }
    if (d->abi_version != sdk_abi_version) {
        return "SDK ABI version " + std::to_string(d->abi_version) + ", this host speaks " +
               std::to_string(sdk_abi_version);
    }
    if (d->descriptor_size != sizeof(ModuleDescriptor)) {
        return "descriptor size " + std::to_string(d->descriptor_size) + ", SDK ABI version " +
               std::to_string(sdk_abi_version) + " has " + std::to_string(sizeof(ModuleDescriptor));
    }
    switch (d->kind) {
        case BehaviourKind::gen_server:
        case BehaviourKind::supervisor: break;
        default: return "unknown behaviour kind " + std::to_string(static_cast<std::uint32_t>(d->kind));
    }
    if (!d->name) return "module name is null";
    std::string_view name(d->name, ::strnlen(d->name, max_name_bytes + 1));
    if (name.size() > max_name_bytes) {
        return "module name " + quoted(name) + " is longer than " + std::to_string(max_name_bytes) + " bytes";
    }
    if (!is_module_name(name)) return "module name " + quoted(name) + " is not a valid atom ([a-z][A-Za-z0-9_@]*)";
    if (!d->version) return "version is null";
    std::string_view version(d->version, ::strnlen(d->version, max_version_bytes + 1));
    if (version.empty()) return "version string is empty";
    if (version.size() > max_version_bytes) {
        return "version " + quoted(version) + " is longer than " + std::to_string(max_version_bytes) + " bytes";
    }
    for (char c : version) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
            return "version " + quoted(version) + " has non-printable bytes";
        }
    }
    return {};
}

std::vector<HygieneProblem> hygiene_problems_of(const ElfFacts& facts) {
    std::vector<HygieneProblem> problems;
    if (!facts.gnu_unique_symbols.empty()) {
        problems.push_back({HygieneProblem::Kind::gnu_unique, facts.gnu_unique_symbols});
    }
    if (!facts.thread_atexit_references.empty()) {
        problems.push_back({HygieneProblem::Kind::thread_local_destructors, facts.thread_atexit_references});
    }
    return problems;
}

std::string describe_all(const std::vector<HygieneProblem>& problems) {
    std::string out;
    for (const auto& p : problems) {
        if (!out.empty()) out += "; and it ";
        out += p.describe();
    }
    return out;
}

struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// A name no other load, in this process or another sharing the directory,
// will pick: a process-wide counter (readable order) and 64 random bits.
std::string unique_base(const fs::path& source) {
    static std::atomic<std::uint64_t> counter{0};
    std::uint64_t random = 0;
    if (::getrandom(&random, sizeof random, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof random)) {
        // No entropy yet (early boot): time, thread and counter still make a
        // collision unlikely, and O_EXCL/RENAME_NOREPLACE catch the rest.
        random = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                 (std::hash<std::thread::id>{}(std::this_thread::get_id()) << 17);
    }
    std::string stem;
    for (char c : source.stem().string()) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        stem += ok ? c : '_';
        if (stem.size() == 64) break;
    }
    if (stem.empty()) stem = "plugin";
    char tail[48];
    std::snprintf(tail, sizeof tail, "-%llu-%016llx",
                  static_cast<unsigned long long>(counter.fetch_add(1, std::memory_order_relaxed)),
                  static_cast<unsigned long long>(random));
    return stem + tail;
}

// Copies `size` bytes from the start of `from` into `to`; false with errno set
// on failure, or with errno 0 if the source came up short.
bool copy_contents(int from, int to, std::uint64_t size) {
    loff_t offset = 0;
    // copy_file_range keeps the data in the kernel; fall back to read/write
    // where it is not supported (across filesystems, old kernels).
    while (static_cast<std::uint64_t>(offset) < size) {
        ssize_t n = ::copy_file_range(from, &offset, to, nullptr, size - static_cast<std::uint64_t>(offset), 0);
        if (n > 0) continue;
        if (n == 0) {
            errno = 0;
            return false;
        }
        if (errno == EINTR) continue;
        if (offset == 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) break;
        return false;
    }
    // On the heap: loads run in processes, whose stacks may be 64 KiB.
    std::vector<char> buffer(65536);
    while (static_cast<std::uint64_t>(offset) < size) {
        std::size_t want = std::min<std::uint64_t>(buffer.size(), size - static_cast<std::uint64_t>(offset));
        ssize_t n = ::pread(from, buffer.data(), want, offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = 0;
            return false;
        }
        for (ssize_t written = 0; written < n;) {
            ssize_t w = ::write(to, buffer.data() + written, static_cast<std::size_t>(n - written));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) return false;
            written += w;
        }
        offset += n;
    }
    return true;
}

bool same_version_of_file(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
           a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

std::string dl_error_text(const fs::path& copy) {
    const char* e = ::dlerror();
    std::string text = e ? e : "unknown error";
    // glibc prefixes the path it was given: the private copy, which means
    // nothing to the reader (the message already names the original).
    std::string prefix = copy.string() + ": ";
    if (text.compare(0, prefix.size(), prefix) == 0) text.erase(0, prefix.size());
    return text;
}

std::string describe_mappings(const fs::path& copy, const std::vector<Mapping>& mappings) {
    char where[64];
    std::snprintf(where, sizeof where, "%zu mapping%s, the first at 0x%llx", mappings.size(),
                  mappings.size() == 1 ? "" : "s", static_cast<unsigned long long>(mappings.front().begin));
    return copy.string() + " is still mapped after dlclose (" + where + ")";
}

// What load() has done so far, undone on destruction unless released: the
// library closed first, then the copy deleted. undo() also reports whether
// the kernel really dropped the library, as unload() does.
class Staging {
public:
    explicit Staging(fs::path temp) : temp_(std::move(temp)) {}
    Staging(const Staging&) = delete;
    Staging& operator=(const Staging&) = delete;
    ~Staging() { undo(); }

    const fs::path& temp() const { return temp_; }
    void renamed_to(fs::path copy) {
        temp_.clear();
        copy_ = std::move(copy);
    }
    void opened(void* handle, FileIdentity identity) {
        handle_ = handle;
        identity_ = std::move(identity);
    }
    void release() {
        temp_.clear();
        copy_.clear();
        handle_ = nullptr;
    }

    // Empty, or a note for the error message when something stays mapped.
    std::string undo() noexcept {
        std::string note;
        try {
            if (handle_) {
                close_library(handle_);
                handle_ = nullptr;
                auto still = mappings_of(identity_);
                if (!still.empty()) note = " (and " + describe_mappings(copy_, still) + ")";
            }
        } catch (...) {
        }
        if (!temp_.empty()) ::unlink(temp_.c_str());
        if (!copy_.empty()) ::unlink(copy_.c_str());
        temp_.clear();
        copy_.clear();
        return note;
    }

private:
    fs::path temp_;
    fs::path copy_;
    void* handle_ = nullptr;
    FileIdentity identity_;
};

}  // namespace

// The shape unique_base() gives, plus the extension: "<stem>-<n>-<16 hex>.so"
// or ".tmp", the stem non-empty and made of the characters it keeps.
bool is_private_copy_name(std::string_view name) noexcept {
    std::string_view ext = name.size() > 4 ? name.substr(name.size() - 4) : std::string_view();
    const bool tmp = ext == ".tmp";
    if (!tmp && !(name.size() > 3 && name.substr(name.size() - 3) == ".so")) return false;
    name.remove_suffix(tmp ? 4 : 3);
    auto is_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
    if (name.size() < 17 + 3 || name[name.size() - 17] != '-') return false;
    for (char c : name.substr(name.size() - 16))
        if (!is_hex(c)) return false;
    name.remove_suffix(17);
    std::size_t dash = name.rfind('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size()) return false;
    for (char c : name.substr(dash + 1))
        if (c < '0' || c > '9') return false;
    for (char c : name.substr(0, dash)) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string HygieneProblem::describe() const {
    switch (kind) {
        case Kind::gnu_unique:
            return "has STB_GNU_UNIQUE symbols (it could never be unloaded): " + join_symbols(symbols) +
                   "; rebuild it with otpp_add_plugin() or -fno-gnu-unique";
        case Kind::thread_local_destructors:
            return "has thread_local objects with destructors (it references " + join_symbols(symbols) +
                   "; it cannot be unloaded while any thread that touched one lives); give them trivial "
                   "destructors or keep them out of the plugin";
    }
    return "has an unknown hygiene problem";
}

std::shared_ptr<PluginLibrary> PluginLibrary::load(const fs::path& file, const LoadOptions& options) {
    auto fail = [&](std::string reason) { return LoadError(file, std::move(reason)); };

    if (options.private_dir.empty()) throw fail("LoadOptions::private_dir is empty");

    // O_NONBLOCK: opening a FIFO someone put in the plugin directory must not hang.
    Fd source(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (source.fd < 0) throw fail(errno_text(errno));
    struct stat before{};
    if (::fstat(source.fd, &before) != 0) throw fail("cannot stat: " + errno_text(errno));
    if (S_ISDIR(before.st_mode)) throw fail("is a directory");
    if (!S_ISREG(before.st_mode)) throw fail("not a regular file");
    if (before.st_size == 0) throw fail("file is empty");

    ElfFacts facts;
    try {
        facts = inspect_elf(source.fd, static_cast<std::uint64_t>(before.st_size));
    } catch (const ElfError& e) {
        throw fail(e.what());
    }
    std::vector<HygieneProblem> problems = hygiene_problems_of(facts);
    if (!problems.empty() && !options.allow_unpurgeable) throw fail(describe_all(problems));

    // Everything checkable without running plugin code has passed; from here
    // on, every step is undone by `staging` if a later one fails.
    std::error_code ec;
    fs::create_directories(options.private_dir, ec);
    if (ec) throw fail("cannot create private directory " + options.private_dir.string() + ": " + ec.message());

    const std::string base = unique_base(file);
    const fs::path copy = options.private_dir / (base + ".so");
    // Written under a temporary name and renamed, so a crash mid-copy leaves a
    // .tmp file, never a truncated .so that looks loadable.
    Staging staging(options.private_dir / (base + ".tmp"));
    FileIdentity identity;
    {
        // Read-only from birth: nothing should ever write to a mapped copy
        // (the descriptor we hold is writable regardless).
        Fd out(::open(staging.temp().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0500));
        if (out.fd < 0) {
            int error = errno;
            std::string temp = staging.temp().string();
            staging.release();  // not ours: O_EXCL failed or nothing was created
            throw fail("cannot create " + temp + ": " + errno_text(error));
        }
        if (!copy_contents(source.fd, out.fd, static_cast<std::uint64_t>(before.st_size))) {
            int error = errno;
            throw fail(error ? "cannot copy to " + staging.temp().string() + ": " + errno_text(error)
                             : std::string("file shrank while being copied"));
        }
        // Catches an installer writing the file in place while we copied it
        // (best effort: mtime is as coarse as the kernel's clock tick).
        struct stat after{};
        if (::fstat(source.fd, &after) != 0 || !same_version_of_file(before, after)) {
            throw fail("file changed while being copied; try again once it is fully written");
        }
        try {
            identity = identify_file(out.fd, copy.filename().string());
        } catch (const std::system_error& e) {
            throw fail(e.what());
        }
    }
    if (::renameat2(AT_FDCWD, staging.temp().c_str(), AT_FDCWD, copy.c_str(), RENAME_NOREPLACE) != 0) {
        // Filesystems without RENAME_NOREPLACE: the random name is the guarantee.
        int error = errno;
        if (error == EINVAL) error = ::rename(staging.temp().c_str(), copy.c_str()) == 0 ? 0 : errno;
        if (error) throw fail("cannot rename the private copy to " + copy.string() + ": " + errno_text(error));
    }
    staging.renamed_to(copy);

    void* handle = open_library(copy.c_str());
    if (!handle) throw fail("dlopen: " + dl_error_text(copy));
    staging.opened(handle, identity);

    ::dlerror();
    void* entry = ::dlsym(handle, module_descriptor_symbol);
    if (!entry) throw fail(std::string("does not export ") + module_descriptor_symbol + "()" + staging.undo());
    // dlsym also searches the library's dependencies; the entry point must be
    // the plugin's own, not one it happens to link against.
    Dl_info where{};
    link_map* self = nullptr;
    if (::dladdr(entry, &where) == 0 || ::dlinfo(handle, RTLD_DI_LINKMAP, &self) != 0 || !self ||
        !where.dli_fname || std::strcmp(where.dli_fname, self->l_name) != 0) {
        std::string owner = where.dli_fname ? where.dli_fname : "another library";
        throw fail(std::string("does not define ") + module_descriptor_symbol + "() itself (found it in " + owner +
                   ")" + staging.undo());
    }

    const ModuleDescriptor* descriptor = nullptr;
    bool threw = false;
    try {
        descriptor = reinterpret_cast<ModuleDescriptorFn>(entry)();
    } catch (...) {
        threw = true;  // the exception object may live in the plugin: gone before dlclose
    }
    if (threw) throw fail(std::string(module_descriptor_symbol) + "() threw an exception" + staging.undo());
    if (std::string reason = check_descriptor(descriptor); !reason.empty()) throw fail(reason + staging.undo());

    std::shared_ptr<PluginLibrary> library(new PluginLibrary());
    library->source_file_ = file;
    library->private_copy_ = copy;
    library->copy_identity_ = std::move(identity);
    library->module_name_ = descriptor->name;
    library->version_ = descriptor->version;
    library->descriptor_ = *descriptor;
    library->descriptor_.name = library->module_name_.c_str();
    library->descriptor_.version = library->version_.c_str();
    library->hygiene_problems_ = std::move(problems);
    library->handle_ = handle;
    staging.release();
    return library;
}

PluginLibrary::~PluginLibrary() {
    if (unload_result_) return;
    try {
        UnloadResult result = unload();
        if (!result.unmapped) std::fprintf(stderr, "otpp: %s\n", result.detail.c_str());
    } catch (...) {
    }
}

void* PluginLibrary::symbol(const char* name) const {
    std::lock_guard lock(mutex_);
    return handle_ ? ::dlsym(handle_, name) : nullptr;
}

UnloadResult PluginLibrary::unload() {
    std::lock_guard lock(mutex_);
    if (unload_result_) return *unload_result_;

    std::string close_error;
    if (handle_ && close_library(handle_) != 0) close_error = dl_error_text(private_copy_);
    handle_ = nullptr;

    // Checked before the copy is deleted, though matching by inode would also
    // find it afterwards (then printed with " (deleted)").
    UnloadResult result;
    try {
        std::vector<Mapping> still = mappings_of(copy_identity_);
        if (still.empty()) {
            result.unmapped = true;
            result.detail = "unloaded " + module_name_ + " " + version_ + ": " + private_copy_.string() +
                            " is no longer mapped";
        } else {
            result.detail = describe_mappings(private_copy_, still);
            result.detail += hygiene_problems_.empty()
                                 ? "; something else holds it (a pending thread_local destructor, another "
                                   "dlopen of it, or a library that depends on it)"
                                 : "; expected: it " + describe_all(hygiene_problems_);
        }
    } catch (const std::exception& e) {
        result.detail = "cannot tell whether " + private_copy_.string() + " is still mapped: " + e.what();
    }
    if (!close_error.empty()) result.detail += "; dlclose failed: " + close_error;
    // Deleted even if still mapped: the mapping keeps the inode alive, and
    // the name would only pile up in private_dir.
    if (::unlink(private_copy_.c_str()) != 0 && errno != ENOENT) {
        result.detail += "; cannot delete it: " + errno_text(errno);
    }
    unload_result_ = result;
    return result;
}

}  // namespace otpp::code
