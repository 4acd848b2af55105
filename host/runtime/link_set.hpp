// The processes a process is linked to.
//
// Most processes have none or a few: a plain vector, scanned. A supervisor is
// linked to every child, and a child's exit must not cost a scan of 10,000
// links (restart time would grow with the number of children, as the BEAM's
// does), so from kIndexFrom links on a hash index finds one in O(1).
// Removal swaps with the last element: the order of links means nothing.
//
// Not thread-safe: guarded by its process's info lock.
#pragma once

#include <otpp/pid.hpp>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace otpp::runtime {

class LinkSet {
public:
    bool contains(Pid p) const { return find(p) != npos; }
    // False if already there.
    bool insert(Pid p) {
        if (contains(p)) return false;
        pids_.push_back(p);
        if (index_) (*index_)[p] = static_cast<uint32_t>(pids_.size() - 1);
        else if (pids_.size() >= kIndexFrom) build_index();
        return true;
    }
    // False if absent.
    bool erase(Pid p) {
        std::size_t i = find(p);
        if (i == npos) return false;
        if (i != pids_.size() - 1) {
            pids_[i] = pids_.back();
            if (index_) (*index_)[pids_[i]] = static_cast<uint32_t>(i);
        }
        pids_.pop_back();
        if (index_) index_->erase(p);
        return true;
    }
    std::size_t size() const noexcept { return pids_.size(); }
    bool empty() const noexcept { return pids_.empty(); }
    const std::vector<Pid>& pids() const noexcept { return pids_; }
    // Empties the set, handing its pids over.
    std::vector<Pid> take() noexcept {
        index_.reset();
        return std::move(pids_);
    }
    void clear() noexcept {
        pids_.clear();
        index_.reset();
    }

private:
    static constexpr std::size_t kIndexFrom = 16;
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    std::size_t find(Pid p) const {
        if (index_) {
            auto it = index_->find(p);
            return it == index_->end() ? npos : it->second;
        }
        for (std::size_t i = 0; i < pids_.size(); ++i)
            if (pids_[i] == p) return i;
        return npos;
    }
    void build_index() {
        index_ = std::make_unique<std::unordered_map<Pid, uint32_t>>();
        index_->reserve(pids_.size() * 2);
        for (std::size_t i = 0; i < pids_.size(); ++i) (*index_)[pids_[i]] = static_cast<uint32_t>(i);
    }

    std::vector<Pid> pids_;
    std::unique_ptr<std::unordered_map<Pid, uint32_t>> index_;
};

}  // namespace otpp::runtime
