#include "symbolizer.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

namespace otpp::control {

namespace {

struct Symbol {
    std::uint64_t value;
    std::uint64_t size;
    std::uint32_t name;  // offset into strings
};

struct SymbolTable {
    std::vector<Symbol> symbols;  // sorted by value
    std::string strings;

    const Symbol* find(std::uint64_t vaddr) const {
        auto it = std::upper_bound(symbols.begin(), symbols.end(), vaddr,
                                   [](std::uint64_t v, const Symbol& s) { return v < s.value; });
        // Nested or overlapping symbols: look back a few for one that covers vaddr.
        for (int k = 0; k < 8 && it != symbols.begin(); ++k) {
            --it;
            if (vaddr >= it->value && vaddr < it->value + std::max<std::uint64_t>(it->size, 1)) return &*it;
        }
        return nullptr;
    }
    const char* name(const Symbol& s) const {
        return s.name < strings.size() ? strings.c_str() + s.name : "";
    }
};

bool pread_all(int fd, void* out, std::size_t n, std::uint64_t offset) {
    auto* p = static_cast<char*>(out);
    while (n > 0) {
        ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= static_cast<std::size_t>(r);
        offset += static_cast<std::uint64_t>(r);
    }
    return true;
}

// Reads the function symbols of one section type (SHT_SYMTAB or SHT_DYNSYM).
bool read_symbols(int fd, std::uint64_t file_size, const Elf64_Ehdr& eh, const std::vector<Elf64_Shdr>& sections,
                  std::uint32_t type, SymbolTable& out) {
    for (const Elf64_Shdr& sh : sections) {
        if (sh.sh_type != type || sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_link >= sections.size()) continue;
        const Elf64_Shdr& str = sections[sh.sh_link];
        if (sh.sh_offset > file_size || sh.sh_size > file_size - sh.sh_offset) return false;
        if (str.sh_offset > file_size || str.sh_size > file_size - str.sh_offset) return false;
        if (sh.sh_size > (std::uint64_t{256} << 20) || str.sh_size > (std::uint64_t{256} << 20)) return false;
        std::vector<Elf64_Sym> syms(sh.sh_size / sizeof(Elf64_Sym));
        out.strings.resize(str.sh_size);
        if (!pread_all(fd, syms.data(), syms.size() * sizeof(Elf64_Sym), sh.sh_offset)) return false;
        if (!pread_all(fd, out.strings.data(), out.strings.size(), str.sh_offset)) return false;
        for (const Elf64_Sym& s : syms) {
            const unsigned t = ELF64_ST_TYPE(s.st_info);
            if ((t != STT_FUNC && t != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF || s.st_value == 0) continue;
            if (s.st_name >= out.strings.size()) continue;
            out.symbols.push_back({s.st_value, s.st_size, s.st_name});
        }
        std::sort(out.symbols.begin(), out.symbols.end(),
                  [](const Symbol& a, const Symbol& b) { return a.value < b.value; });
        (void)eh;
        return true;
    }
    return false;
}

// PLT stubs have no symbols; a process interrupted in one (calling out of a
// plugin) then shows "<.plt>" rather than a bare address.
void add_plt_sections(int fd, std::uint64_t file_size, const Elf64_Ehdr& eh, const std::vector<Elf64_Shdr>& sections,
                      SymbolTable& table) {
    if (eh.e_shstrndx >= sections.size()) return;
    const Elf64_Shdr& names = sections[eh.e_shstrndx];
    if (names.sh_offset > file_size || names.sh_size > file_size - names.sh_offset || names.sh_size > (1u << 20))
        return;
    std::string shstr(names.sh_size, '\0');
    if (!pread_all(fd, shstr.data(), shstr.size(), names.sh_offset)) return;
    bool added = false;
    for (const Elf64_Shdr& sh : sections) {
        if (sh.sh_name >= shstr.size() || sh.sh_addr == 0 || sh.sh_size == 0) continue;
        const std::string name = shstr.c_str() + sh.sh_name;
        if (name != ".plt" && name != ".plt.got" && name != ".plt.sec") continue;
        const auto offset = static_cast<std::uint32_t>(table.strings.size());
        table.strings += "<" + name + ">";
        table.strings += '\0';
        table.symbols.push_back({sh.sh_addr, sh.sh_size, offset});
        added = true;
    }
    if (added)
        std::sort(table.symbols.begin(), table.symbols.end(),
                  [](const Symbol& a, const Symbol& b) { return a.value < b.value; });
}

std::shared_ptr<const SymbolTable> load_table(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    auto table = std::make_shared<SymbolTable>();
    struct stat st {};
    Elf64_Ehdr eh{};
    bool ok = ::fstat(fd, &st) == 0 && pread_all(fd, &eh, sizeof eh, 0) &&
              std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
              eh.e_shentsize == sizeof(Elf64_Shdr) && eh.e_shnum > 0 && eh.e_shnum < 65535;
    const auto file_size = static_cast<std::uint64_t>(st.st_size);
    std::vector<Elf64_Shdr> sections;
    if (ok) {
        ok = eh.e_shoff <= file_size && std::uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr) <= file_size - eh.e_shoff;
    }
    if (ok) {
        sections.resize(eh.e_shnum);
        ok = pread_all(fd, sections.data(), sections.size() * sizeof(Elf64_Shdr), eh.e_shoff);
    }
    if (ok) {
        ok = read_symbols(fd, file_size, eh, sections, SHT_SYMTAB, *table);
        if (!ok) {
            *table = {};
            ok = read_symbols(fd, file_size, eh, sections, SHT_DYNSYM, *table);
        }
    }
    if (ok) add_plt_sections(fd, file_size, eh, sections, *table);
    ::close(fd);
    return ok ? table : nullptr;
}

using FileKey = std::tuple<std::string, dev_t, ino_t, off_t, std::int64_t>;

std::shared_ptr<const SymbolTable> table_for(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return nullptr;
    FileKey key{path, st.st_dev, st.st_ino, st.st_size, static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
    static std::mutex mutex;
    static std::map<FileKey, std::shared_ptr<const SymbolTable>> cache;
    {
        std::lock_guard lock(mutex);
        if (auto it = cache.find(key); it != cache.end()) return it->second;
    }
    auto table = load_table(path);  // outside the lock: file I/O
    std::lock_guard lock(mutex);
    if (cache.size() > 256) cache.clear();  // old plugin versions come and go
    cache.emplace(key, table);
    return table;
}

std::string demangle(const char* name) {
    int status = 0;
    char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (status == 0 && d) {
        std::string out(d);
        std::free(d);
        return out;
    }
    std::free(d);
    return name;
}

std::string self_exe() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return {};
    return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

namespace {

// The object holding an address, found under the dynamic loader's lock
// (dl_iterate_phdr holds it during the walk): a plugin being purged at the
// same moment cannot free the link map we read its name from.
struct Owner {
    std::uintptr_t address = 0;
    std::string path;
    std::uintptr_t bias = 0;
    bool found = false;
};

int find_owner(dl_phdr_info* info, std::size_t, void* data) {
    auto* owner = static_cast<Owner*>(data);
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const auto& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_LOAD) continue;
        const std::uintptr_t start = info->dlpi_addr + ph.p_vaddr;
        if (owner->address >= start && owner->address < start + ph.p_memsz) {
            owner->path = info->dlpi_name ? info->dlpi_name : "";
            owner->bias = info->dlpi_addr;
            owner->found = true;
            return 1;
        }
    }
    return 0;
}

}  // namespace

SymbolizedFrame symbolize(std::uintptr_t address) {
    SymbolizedFrame frame;
    frame.address = address;
    Owner owner;
    owner.address = address;
    ::dl_iterate_phdr(find_owner, &owner);
    if (!owner.found) return frame;
    std::string path = owner.path.empty() ? self_exe() : owner.path;  // the main program has no name
    frame.object = path;
    if (auto table = table_for(path)) {
        if (const Symbol* s = table->find(address - owner.bias)) {
            frame.function = demangle(table->name(*s));
            frame.offset = address - owner.bias - s->value;
            return frame;
        }
    }
    // No .symtab: the dynamic symbols, if any export covers it.
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(address), &info) != 0 && info.dli_sname && info.dli_saddr) {
        frame.function = demangle(info.dli_sname);
        frame.offset = address - reinterpret_cast<std::uintptr_t>(info.dli_saddr);
    }
    return frame;
}

std::string to_string(const SymbolizedFrame& f) {
    char buf[64];
    std::string out;
    if (!f.function.empty()) {
        std::snprintf(buf, sizeof buf, "+0x%zx", static_cast<std::size_t>(f.offset));
        out = f.function + buf;
    } else {
        std::snprintf(buf, sizeof buf, "0x%zx", static_cast<std::size_t>(f.address));
        out = buf;
    }
    if (!f.object.empty()) out += " (" + f.object + ")";
    return out;
}

}  // namespace otpp::control
