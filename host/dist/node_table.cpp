#include "node_table.hpp"

#include <stdexcept>

namespace otpp::dist {

namespace {
std::uint64_t key(const NodeIncarnation& n) { return static_cast<std::uint64_t>(n.name.index()) << 32 | n.creation; }
}  // namespace

NodeTable::NodeTable() : entries_(std::make_unique<std::array<Entry, max_nodes>>()) {
    Entry& local = (*entries_)[0];
    local.node = {atoms::nonode_at_nohost, 0};
    local.ready.store(true, std::memory_order_release);
    size_.store(1, std::memory_order_release);
    by_key_[key(local.node)] = 0;
}

void NodeTable::set_local(NodeIncarnation n) {
    std::lock_guard lock(mutex_);
    Entry& local = (*entries_)[0];
    by_key_.erase(key(local.node));
    // Readers of index 0 see either incarnation, never a torn one: the
    // entry is only rewritten before distribution starts (no remote pid yet).
    local.ready.store(false, std::memory_order_release);
    local.node = n;
    local.ready.store(true, std::memory_order_release);
    by_key_[key(n)] = 0;
}

std::uint32_t NodeTable::index_of(NodeIncarnation n) {
    std::lock_guard lock(mutex_);
    if (auto it = by_key_.find(key(n)); it != by_key_.end()) return it->second;
    std::uint32_t index = size_.load(std::memory_order_relaxed);
    if (index >= max_nodes)
        throw std::length_error("the node table is full (" + std::to_string(max_nodes) + " node incarnations)");
    Entry& e = (*entries_)[index];
    e.node = n;
    e.ready.store(true, std::memory_order_release);
    size_.store(index + 1, std::memory_order_release);
    by_key_[key(n)] = index;
    auto [it, fresh] = newest_.try_emplace(n.name.index(), index);
    // A higher creation is a later incarnation; creations are random 32-bit
    // values since OTP 23, so "later" is simply "heard of last".
    if (!fresh) it->second = index;
    return index;
}

std::optional<NodeIncarnation> NodeTable::node(std::uint32_t index) const noexcept {
    if (index >= size_.load(std::memory_order_acquire)) return std::nullopt;
    const Entry& e = (*entries_)[index];
    if (!e.ready.load(std::memory_order_acquire)) return std::nullopt;
    return e.node;
}

std::optional<std::uint32_t> NodeTable::newest(Atom name) const {
    std::lock_guard lock(mutex_);
    if (auto it = newest_.find(name.index()); it != newest_.end()) return it->second;
    return std::nullopt;
}

}  // namespace otpp::dist
