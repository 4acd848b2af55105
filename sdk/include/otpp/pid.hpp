// otpp::Pid: a process identifier.
//
// A plain 12-byte value (it fits in a Term without allocation). node 0 is the
// local node. The runtime guarantees (id, serial) is never reused within a run,
// so a Pid held after its process died never names a different process.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "otpp/export.hpp"

namespace otpp {

struct Pid {
    std::uint32_t node = 0;
    std::uint32_t id = 0;
    std::uint32_t serial = 0;

    friend constexpr bool operator==(const Pid&, const Pid&) noexcept = default;

    // Erlang's pid order: by node, then serial, then id (serial is the high
    // part of the process number, so this is "older pids first" locally).
    friend constexpr std::strong_ordering operator<=>(const Pid& a, const Pid& b) noexcept {
        if (auto c = a.node <=> b.node; c != 0) return c;
        if (auto c = a.serial <=> b.serial; c != 0) return c;
        return a.id <=> b.id;
    }
};

// "<Node.Id.Serial>", e.g. "<0.42.0>".
OTPP_API std::string to_string(const Pid& p);
OTPP_API std::ostream& operator<<(std::ostream& os, const Pid& p);

}  // namespace otpp

template <>
struct std::hash<otpp::Pid> {
    std::size_t operator()(const otpp::Pid& p) const noexcept {
        std::uint64_t h = (static_cast<std::uint64_t>(p.serial) << 32) | p.id;
        h ^= static_cast<std::uint64_t>(p.node) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 31;
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 29;
        return static_cast<std::size_t>(h);
    }
};
