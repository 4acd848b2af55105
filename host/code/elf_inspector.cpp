#include "elf_inspector.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace otpp::code {

ElfError::ElfError(const std::string& reason) : std::runtime_error(reason) {}
ElfError::~ElfError() = default;

namespace {

#if defined(__x86_64__)
constexpr std::uint16_t host_machine = EM_X86_64;
#elif defined(__aarch64__)
constexpr std::uint16_t host_machine = EM_AARCH64;
#elif defined(__riscv) && __riscv_xlen == 64
constexpr std::uint16_t host_machine = EM_RISCV;
#elif defined(__powerpc64__)
constexpr std::uint16_t host_machine = EM_PPC64;
#elif defined(__s390x__)
constexpr std::uint16_t host_machine = EM_S390;
#else
#error "elf_inspector: unknown host machine"
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr unsigned char host_data = ELFDATA2LSB;
#else
constexpr unsigned char host_data = ELFDATA2MSB;
#endif

std::string machine_name(std::uint16_t machine) {
    switch (machine) {
        case EM_X86_64: return "x86-64";
        case EM_386: return "i386";
        case EM_AARCH64: return "AArch64";
        case EM_ARM: return "ARM";
        case EM_RISCV: return "RISC-V";
        case EM_PPC64: return "PowerPC64";
        case EM_PPC: return "PowerPC";
        case EM_S390: return "s390";
        case EM_MIPS: return "MIPS";
        default: return "machine " + std::to_string(machine);
    }
}

std::string type_name(std::uint16_t type) {
    switch (type) {
        case ET_NONE: return "an ELF file of no type";
        case ET_REL: return "a relocatable object (.o), not a shared object";
        case ET_EXEC: return "a position-dependent executable, not a shared object";
        case ET_CORE: return "a core dump, not a shared object";
        default: return "an ELF file of unknown type " + std::to_string(type) + ", not a shared object";
    }
}

bool fits(std::uint64_t offset, std::uint64_t length, std::uint64_t file_size) {
    return offset <= file_size && length <= file_size - offset;
}

// Reads exactly `length` bytes at `offset`; the caller has checked they lie in
// the file, so a short read means it shrank while we read it.
void read_at(int fd, void* into, std::uint64_t length, std::uint64_t offset) {
    auto* out = static_cast<char*>(into);
    while (length > 0) {
        ssize_t n = ::pread(fd, out, length, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw ElfError(std::string("read error: ") + std::strerror(errno));
        }
        if (n == 0) throw ElfError("file was truncated while being read");
        out += n;
        length -= static_cast<std::uint64_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
}

template <typename T>
std::vector<T> read_array(int fd, std::uint64_t offset, std::uint64_t count) {
    std::vector<T> items(count);
    if (count > 0) read_at(fd, items.data(), count * sizeof(T), offset);
    return items;
}

Elf64_Ehdr read_header(int fd, std::uint64_t file_size) {
    unsigned char ident[EI_NIDENT] = {};
    std::uint64_t have = file_size < EI_NIDENT ? file_size : EI_NIDENT;
    read_at(fd, ident, have, 0);
    if (have < SELFMAG || std::memcmp(ident, ELFMAG, SELFMAG) != 0) throw ElfError("not an ELF file");
    if (have < EI_NIDENT) throw ElfError("truncated ELF header");
    if (ident[EI_CLASS] == ELFCLASS32) throw ElfError("is a 32-bit (ELF32) object, this host loads ELF64");
    if (ident[EI_CLASS] != ELFCLASS64) throw ElfError("unknown ELF class " + std::to_string(ident[EI_CLASS]));
    if (ident[EI_DATA] != host_data) {
        throw ElfError(std::string("byte order is ") + (ident[EI_DATA] == ELFDATA2MSB ? "big" : "not little") +
                       "-endian, unlike this host");
    }
    if (file_size < sizeof(Elf64_Ehdr)) throw ElfError("truncated ELF header");
    Elf64_Ehdr header;
    read_at(fd, &header, sizeof header, 0);
    if (header.e_type != ET_DYN) throw ElfError("is " + type_name(header.e_type));
    if (header.e_machine != host_machine) {
        throw ElfError("is built for " + machine_name(header.e_machine) + ", this host is " +
                       machine_name(host_machine));
    }
    return header;
}

std::vector<Elf64_Shdr> read_section_headers(int fd, const Elf64_Ehdr& header, std::uint64_t file_size) {
    if (header.e_shoff == 0) throw ElfError("has no section headers, so no .dynsym to inspect");
    if (header.e_shentsize != sizeof(Elf64_Shdr)) {
        throw ElfError("malformed ELF: section header size " + std::to_string(header.e_shentsize));
    }
    std::uint64_t count = header.e_shnum;
    if (count == 0) {
        // More than SHN_LORESERVE sections: the real count is in section 0.
        if (!fits(header.e_shoff, sizeof(Elf64_Shdr), file_size)) {
            throw ElfError("malformed ELF: section headers lie outside the file");
        }
        count = read_array<Elf64_Shdr>(fd, header.e_shoff, 1)[0].sh_size;
    }
    if (count == 0 || count > file_size / sizeof(Elf64_Shdr) ||
        !fits(header.e_shoff, count * sizeof(Elf64_Shdr), file_size)) {
        throw ElfError("malformed ELF: section headers lie outside the file");
    }
    return read_array<Elf64_Shdr>(fd, header.e_shoff, count);
}

}  // namespace

ElfFacts inspect_elf(int fd, std::uint64_t file_size) {
    const Elf64_Ehdr header = read_header(fd, file_size);
    const std::vector<Elf64_Shdr> sections = read_section_headers(fd, header, file_size);

    const Elf64_Shdr* dynsym = nullptr;
    for (const auto& s : sections) {
        if (s.sh_type == SHT_DYNSYM) {
            dynsym = &s;
            break;
        }
    }
    if (!dynsym) throw ElfError("has no .dynsym (not a dynamically linked shared object)");
    if (dynsym->sh_entsize != sizeof(Elf64_Sym) || dynsym->sh_size % sizeof(Elf64_Sym) != 0 ||
        !fits(dynsym->sh_offset, dynsym->sh_size, file_size)) {
        throw ElfError("malformed ELF: bad .dynsym section");
    }
    if (dynsym->sh_link == 0 || dynsym->sh_link >= sections.size() ||
        sections[dynsym->sh_link].sh_type != SHT_STRTAB) {
        throw ElfError("malformed ELF: .dynsym has no string table");
    }
    const Elf64_Shdr& strtab = sections[dynsym->sh_link];
    if (!fits(strtab.sh_offset, strtab.sh_size, file_size)) {
        throw ElfError("malformed ELF: .dynstr lies outside the file");
    }

    const auto symbols = read_array<Elf64_Sym>(fd, dynsym->sh_offset, dynsym->sh_size / sizeof(Elf64_Sym));
    const auto strings = read_array<char>(fd, strtab.sh_offset, strtab.sh_size);
    auto name_of = [&](const Elf64_Sym& sym) -> std::string_view {
        if (sym.st_name >= strings.size()) throw ElfError("malformed ELF: symbol name outside .dynstr");
        const char* begin = strings.data() + sym.st_name;
        const void* nul = std::memchr(begin, '\0', strings.size() - sym.st_name);
        if (!nul) throw ElfError("malformed ELF: unterminated symbol name in .dynstr");
        return {begin, static_cast<std::size_t>(static_cast<const char*>(nul) - begin)};
    };

    constexpr std::string_view thread_atexit = "__cxa_thread_atexit";
    ElfFacts facts;
    for (const auto& sym : symbols) {
        const bool defined = sym.st_shndx != SHN_UNDEF;
        if (defined && ELF64_ST_BIND(sym.st_info) == STB_GNU_UNIQUE) {
            facts.gnu_unique_symbols.emplace_back(name_of(sym));
        } else if (!defined && sym.st_name != 0) {
            std::string_view name = name_of(sym);
            // Matches the libstdc++ entry point and glibc's _impl (used when
            // libstdc++ is linked statically into the plugin).
            if (name.substr(0, thread_atexit.size()) == thread_atexit) {
                facts.thread_atexit_references.emplace_back(name);
            }
        }
    }
    return facts;
}

ElfFacts inspect_elf(const std::filesystem::path& file) {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) throw ElfError(std::string("cannot open: ") + std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st{};
    if (::fstat(fd, &st) != 0) throw ElfError(std::string("cannot stat: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw ElfError("not a regular file");
    return inspect_elf(fd, static_cast<std::uint64_t>(st.st_size));
}

}  // namespace otpp::code
