#include "registry.hpp"

#include "process.hpp"
#include "process_table.hpp"

#include <otpp/error.hpp>

#include <mutex>

namespace otpp::runtime {

void Registry::register_name(Atom name, Pid pid) {
    if (name == atoms::undefined) throw BadArg("register: 'undefined' cannot be registered");
    Process* p = table_.lookup(pid);
    if (!p) throw BadArg("register: " + Term(pid).to_string() + " is not a live local process");
    std::unique_lock lock(lock_);
    bool taken = names_.contains(name.index());
    bool claimed = !taken && p->claim_name(name);
    if (claimed) names_.emplace(name.index(), pid);
    lock.unlock();
    p->release();
    if (taken) throw BadArg("register: the name '" + std::string(name.name()) + "' is already registered");
    if (!claimed)
        throw BadArg("register: " + Term(pid).to_string() + " is exiting or already has a name");
}

void Registry::unregister_name(Atom name) {
    std::unique_lock lock(lock_);
    auto it = names_.find(name.index());
    if (it == names_.end()) throw BadArg("unregister: '" + std::string(name.name()) + "' is not registered");
    Pid pid = it->second;
    names_.erase(it);
    lock.unlock();
    if (Process* p = table_.lookup(pid)) {
        p->drop_name(name);
        p->release();
    }
}

std::optional<Pid> Registry::whereis(Atom name) const {
    std::lock_guard lock(lock_);
    auto it = names_.find(name.index());
    if (it == names_.end()) return std::nullopt;
    return it->second;
}

void Registry::erase(Atom name, Pid pid) noexcept {
    std::lock_guard lock(lock_);
    auto it = names_.find(name.index());
    if (it != names_.end() && it->second == pid) names_.erase(it);
}

std::vector<std::pair<Atom, Pid>> Registry::all() const {
    std::lock_guard lock(lock_);
    std::vector<std::pair<Atom, Pid>> out;
    out.reserve(names_.size());
    for (auto& [index, pid] : names_) out.emplace_back(Atom::from_index(index), pid);
    return out;
}

}  // namespace otpp::runtime
