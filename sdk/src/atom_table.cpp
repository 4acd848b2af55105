// The host-wide atom table.
//
// Reads (Atom::name) are lock-free: names live in records that are never moved
// or freed, reached through a two-level array (256 chunks x 4096 slots) whose
// pointers are published with release stores and read with acquire loads.
// Interning looks names up under a shared lock and appends under an exclusive
// one. Chunk 0, which holds the predefined atoms, is constant-initialized, so
// those atoms work even during other translation units' static initialization.
#include <array>
#include <cstring>
#include <new>
#include <atomic>
#include <memory>
#include <mutex>
#include <ostream>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "otpp/atom.hpp"
#include "otpp/error.hpp"
#include "term_syntax.hpp"
#include "utf8.hpp"

namespace otpp {
namespace {

struct Name {
    const char* data;
    std::uint32_t size;
};

constexpr std::uint32_t chunk_bits = 12;
constexpr std::uint32_t chunk_size = 1u << chunk_bits;
constexpr std::uint32_t chunk_count = Atom::max_atoms / chunk_size;
static_assert(Atom::max_atoms % chunk_size == 0);

constexpr Name predefined_names[] = {
#define OTPP_X_ATOM_NAME(id, text) Name{text, sizeof(text) - 1},
    OTPP_PREDEFINED_ATOMS(OTPP_X_ATOM_NAME)
#undef OTPP_X_ATOM_NAME
};
static_assert(std::size(predefined_names) == detail::predefined_atom_count);
static_assert(detail::predefined_atom_count <= chunk_size);

struct Chunk {
    std::array<const Name*, chunk_size> slots;
};

constexpr Chunk make_chunk0() {
    Chunk c{};
    for (std::uint32_t i = 0; i < detail::predefined_atom_count; ++i) c.slots[i] = &predefined_names[i];
    return c;
}

constinit Chunk chunk0 = make_chunk0();
constinit std::array<Chunk*, chunk_count> chunks = {&chunk0};
constinit std::atomic<std::uint32_t> count{detail::predefined_atom_count};

// Slow-path state: name -> index, plus the arena that owns dynamic names.
// Heap-allocated and never destroyed: atoms must stay valid while other
// objects' static destructors run.
struct Interner {
    std::shared_mutex mutex;
    std::unordered_map<std::string_view, std::uint32_t> index;
    std::vector<std::unique_ptr<char[]>> blocks;  // keeps arena blocks reachable (and leak checkers quiet)
    char* cursor = nullptr;
    std::size_t left = 0;

    Interner() {
        index.reserve(1024);
        for (std::uint32_t i = 0; i < detail::predefined_atom_count; ++i)
            index.emplace(std::string_view(predefined_names[i].data, predefined_names[i].size), i);
    }

    // Copies `text` into the arena together with its Name record.
    const Name* store(std::string_view text) {
        const std::size_t need = sizeof(Name) + text.size();
        if (need > left) {
            constexpr std::size_t block_size = 64 * 1024;
            blocks.push_back(std::make_unique<char[]>(block_size));
            cursor = blocks.back().get();
            left = block_size;
        }
        auto* record = reinterpret_cast<Name*>(cursor);
        char* bytes = cursor + sizeof(Name);
        if (!text.empty()) std::memcpy(bytes, text.data(), text.size());
        ::new (record) Name{bytes, static_cast<std::uint32_t>(text.size())};
        const std::size_t used = (need + alignof(Name) - 1) & ~(alignof(Name) - 1);
        cursor += used;
        left = used > left ? 0 : left - used;
        return record;
    }
};

Interner& interner() {
    static Interner* const instance = new Interner();
    return *instance;
}

std::uint32_t intern(std::string_view name) {
    if (name.size() > Atom::max_name_bytes)
        throw BadArg("atom name too long: " + std::to_string(name.size()) + " bytes (maximum " +
                     std::to_string(Atom::max_name_bytes) + ")");
    if (!detail::utf8::valid(name)) throw BadArg("atom name is not valid UTF-8");
    Interner& in = interner();
    {
        std::shared_lock lock(in.mutex);
        if (auto it = in.index.find(name); it != in.index.end()) return it->second;
    }
    std::unique_lock lock(in.mutex);
    if (auto it = in.index.find(name); it != in.index.end()) return it->second;
    const std::uint32_t i = count.load(std::memory_order_relaxed);
    if (i >= Atom::max_atoms)
        throw BadArg("atom table full (" + std::to_string(Atom::max_atoms) + " atoms)");
    Chunk*& chunk_slot = chunks[i >> chunk_bits];
    Chunk* chunk = std::atomic_ref(chunk_slot).load(std::memory_order_relaxed);
    if (chunk == nullptr) {
        chunk = new Chunk{};  // never freed, reachable from `chunks`
        std::atomic_ref(chunk_slot).store(chunk, std::memory_order_release);
    }
    const Name* record = in.store(name);
    std::atomic_ref(chunk->slots[i & (chunk_size - 1)]).store(record, std::memory_order_release);
    in.index.emplace(std::string_view(record->data, record->size), i);
    count.store(i + 1, std::memory_order_release);
    return i;
}

}  // namespace

Atom::Atom(std::string_view name) : index_(intern(name)) {}

std::optional<Atom> Atom::existing(std::string_view name) noexcept {
    Interner& in = interner();
    std::shared_lock lock(in.mutex);
    if (auto it = in.index.find(name); it != in.index.end()) return Atom::from_index(it->second);
    return std::nullopt;
}

std::string_view Atom::name() const noexcept {
    const std::uint32_t i = index_;
    if (i >= max_atoms) return {};
    Chunk* chunk = std::atomic_ref(chunks[i >> chunk_bits]).load(std::memory_order_acquire);
    if (chunk == nullptr) return {};
    const Name* record = std::atomic_ref(chunk->slots[i & (chunk_size - 1)]).load(std::memory_order_acquire);
    if (record == nullptr) return {};
    return {record->data, record->size};
}

std::strong_ordering operator<=>(Atom a, Atom b) noexcept {
    if (a == b) return std::strong_ordering::equal;
    // string_view comparison uses char_traits<char>::compare, i.e. unsigned bytes.
    return a.name().compare(b.name()) <=> 0;
}

std::size_t atom_count() noexcept { return count.load(std::memory_order_acquire); }

std::string to_string(Atom a) {
    std::string out;
    detail::append_atom(out, a.name());
    return out;
}

std::ostream& operator<<(std::ostream& os, Atom a) { return os << to_string(a); }

}  // namespace otpp
