// Registered names (erlang:register/2, whereis/1, unregister/1).
//
// A name maps to one live local process; a process has at most one name; the
// name is freed when the process dies. Thread-safe: a spinlock around a hash
// map (lookups are short; sharding can come if a profile asks for it).
#pragma once

#include "spinlock.hpp"

#include <otpp/term.hpp>

#include <optional>
#include <unordered_map>
#include <vector>

namespace otpp::runtime {

class ProcessTable;

class OTPP_API Registry {
public:
    explicit Registry(ProcessTable& table) : table_(table) {}

    void register_name(Atom name, Pid pid);     // BadArg on any conflict
    void unregister_name(Atom name);            // BadArg if not registered
    std::optional<Pid> whereis(Atom name) const;
    // The dying process drops its own name (only if it is still its own).
    void erase(Atom name, Pid pid) noexcept;
    std::vector<std::pair<Atom, Pid>> all() const;

private:
    ProcessTable& table_;
    mutable Spinlock lock_;
    std::unordered_map<uint32_t, Pid> names_;  // by atom index
};

}  // namespace otpp::runtime
