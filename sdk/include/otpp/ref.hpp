// otpp::Ref: a unique reference (Erlang's make_ref()).
//
// A plain value: node plus a 64-bit id that the runtime never reuses within a
// run. Printed "#Ref<Node.High.Low>" where High/Low are the 32-bit halves of id.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "otpp/export.hpp"

namespace otpp {

struct Ref {
    std::uint32_t node = 0;
    std::uint64_t id = 0;

    friend constexpr bool operator==(const Ref&, const Ref&) noexcept = default;
    // Order: by node, then id.
    friend constexpr std::strong_ordering operator<=>(const Ref&, const Ref&) noexcept = default;
};

// "#Ref<0.0.7>"
OTPP_API std::string to_string(const Ref& r);
OTPP_API std::ostream& operator<<(std::ostream& os, const Ref& r);

}  // namespace otpp

template <>
struct std::hash<otpp::Ref> {
    std::size_t operator()(const otpp::Ref& r) const noexcept {
        std::uint64_t h = r.id ^ (static_cast<std::uint64_t>(r.node) * 0x9E3779B97F4A7C15ull);
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDull;
        h ^= h >> 33;
        return static_cast<std::size_t>(h);
    }
};
