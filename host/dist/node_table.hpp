// Every node this one has heard of, by incarnation.
//
// A remote pid or reference names its node by a small index into this table
// (Pid::node, Ref::node), so that pids and refs stay plain values in a Term.
// An entry is one incarnation: (name, creation). A node that restarts comes
// back with a new creation and gets a new index, so a pid of the dead
// incarnation can never name a process of the new one (Erlang's rule).
// Entries are never removed: a pid held anywhere must keep its meaning.
//
// Index 0 is this node, whatever its name (before distribution starts it is
// nonode@nohost, creation 0); local pids and refs have node 0 and stay valid
// when the node becomes distributed.
//
// References: the BEAM's refs carry 82 bits (word 0 has 18 bits, words 1 and
// 2 have 32). A remote Ref packs word 0 into the upper 18 bits of Ref::node
// and words 1-2 into Ref::id; the lower 14 bits of Ref::node are the node's
// index. Hence at most 16,384 incarnations per run (max_nodes).
//
// Thread safety: every member may be called from any thread; lookups by
// index are lock-free reads of an append-only array.
#pragma once

#include <otpp/atom.hpp>
#include <otpp/pid.hpp>
#include <otpp/ref.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace otpp::dist {

struct NodeIncarnation {
    Atom name;
    std::uint32_t creation = 0;
    friend bool operator==(const NodeIncarnation&, const NodeIncarnation&) = default;
};

class NodeTable {
public:
    static constexpr std::uint32_t index_bits = 14;
    static constexpr std::uint32_t max_nodes = 1u << index_bits;

    NodeTable();

    // Names this node (index 0); called when distribution starts.
    void set_local(NodeIncarnation local);
    NodeIncarnation local() const noexcept { return node(0).value(); }

    // The index of an incarnation, added if new. Throws std::length_error
    // when the table is full.
    std::uint32_t index_of(NodeIncarnation node);
    // The incarnation behind an index; nullopt for an index never handed out.
    std::optional<NodeIncarnation> node(std::uint32_t index) const noexcept;
    // The index of the newest incarnation known under `name` (the one a send
    // to {Name, Node} reaches), if any.
    std::optional<std::uint32_t> newest(Atom name) const;

private:
    struct Entry {
        std::atomic<bool> ready{false};
        NodeIncarnation node;
    };
    mutable std::mutex mutex_;  // writers only
    std::unique_ptr<std::array<Entry, max_nodes>> entries_;
    std::atomic<std::uint32_t> size_{0};
    std::unordered_map<std::uint64_t, std::uint32_t> by_key_;  // (name, creation) -> index
    std::unordered_map<std::uint32_t, std::uint32_t> newest_;  // name -> newest index
};

// Remote reference packing (see above).
struct RefWords {
    std::uint32_t node_index = 0;
    std::uint32_t w0 = 0;  // 18 bits
    std::uint32_t w1 = 0;
    std::uint32_t w2 = 0;
};
inline constexpr std::uint32_t ref_word0_max = (1u << (32 - NodeTable::index_bits)) - 1;
inline RefWords unpack_ref(Ref r) noexcept {
    return {r.node & (NodeTable::max_nodes - 1), r.node >> NodeTable::index_bits,
            static_cast<std::uint32_t>(r.id >> 32), static_cast<std::uint32_t>(r.id)};
}
// w0 must be <= ref_word0_max and node_index < max_nodes.
inline Ref pack_ref(const RefWords& w) noexcept {
    return Ref{w.node_index | (w.w0 << NodeTable::index_bits), (static_cast<std::uint64_t>(w.w1) << 32) | w.w2};
}

}  // namespace otpp::dist
