// The vocabulary of supervision trees (OTP's supervisor child specs): restart
// strategies, restart types, child types and shutdown modes, with their
// Erlang names. Shared by the host's config loader and the supervisor
// implementation, so that the names accepted in host.toml and in spec terms
// are the same. Header-only, depends on the standard library only.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otpp::host {

// How a supervisor reacts when a child terminates.
enum class Strategy {
    one_for_one,        // restart that child
    one_for_all,        // restart all children
    rest_for_one,       // restart that child and those started after it
    simple_one_for_one  // one template child spec; children are added dynamically
};

// When a terminated child is restarted.
enum class Restart {
    permanent,  // always
    transient,  // only after an abnormal exit (not normal, shutdown or {shutdown, _})
    temporary   // never
};

enum class ChildType { worker, supervisor };

// How a supervisor stops a child.
struct Shutdown {
    enum class Kind {
        timeout,      // exit(Child, shutdown), then exit(Child, kill) after `timeout`
        brutal_kill,  // exit(Child, kill)
        infinity      // exit(Child, shutdown) and wait as long as it takes
    };
    Kind kind = Kind::timeout;
    std::chrono::milliseconds timeout{5000};  // meaningful for Kind::timeout only

    static constexpr Shutdown after(std::chrono::milliseconds ms) noexcept { return {Kind::timeout, ms}; }
    static constexpr Shutdown brutal_kill() noexcept { return {Kind::brutal_kill, std::chrono::milliseconds{0}}; }
    static constexpr Shutdown infinity() noexcept { return {Kind::infinity, std::chrono::milliseconds{0}}; }
    // OTP's defaults: 5000 ms for workers, infinity for supervisors.
    static constexpr Shutdown default_for(ChildType type) noexcept {
        return type == ChildType::worker ? after(std::chrono::milliseconds{5000}) : infinity();
    }

    // Equal kinds, and equal timeouts when the kind is timeout.
    friend constexpr bool operator==(const Shutdown& a, const Shutdown& b) noexcept {
        return a.kind == b.kind && (a.kind != Kind::timeout || a.timeout == b.timeout);
    }
};

// The Erlang names, in declaration order (for messages: "expected one of ...").
inline constexpr std::array<std::string_view, 4> strategy_names{"one_for_one", "one_for_all", "rest_for_one",
                                                                "simple_one_for_one"};
inline constexpr std::array<std::string_view, 3> restart_names{"permanent", "transient", "temporary"};
inline constexpr std::array<std::string_view, 2> child_type_names{"worker", "supervisor"};

constexpr std::string_view to_string(Strategy s) noexcept { return strategy_names[static_cast<std::size_t>(s)]; }
constexpr std::string_view to_string(Restart r) noexcept { return restart_names[static_cast<std::size_t>(r)]; }
constexpr std::string_view to_string(ChildType t) noexcept { return child_type_names[static_cast<std::size_t>(t)]; }
// "brutal_kill", "infinity" or the timeout in milliseconds ("5000").
inline std::string to_string(const Shutdown& s) {
    switch (s.kind) {
        case Shutdown::Kind::brutal_kill: return "brutal_kill";
        case Shutdown::Kind::infinity: return "infinity";
        case Shutdown::Kind::timeout: break;
    }
    return std::to_string(s.timeout.count());
}

// Exact (case-sensitive) names; nullopt for anything else.
constexpr std::optional<Strategy> parse_strategy(std::string_view name) noexcept {
    for (std::size_t i = 0; i < strategy_names.size(); ++i)
        if (strategy_names[i] == name) return static_cast<Strategy>(i);
    return std::nullopt;
}
constexpr std::optional<Restart> parse_restart(std::string_view name) noexcept {
    for (std::size_t i = 0; i < restart_names.size(); ++i)
        if (restart_names[i] == name) return static_cast<Restart>(i);
    return std::nullopt;
}
constexpr std::optional<ChildType> parse_child_type(std::string_view name) noexcept {
    for (std::size_t i = 0; i < child_type_names.size(); ++i)
        if (child_type_names[i] == name) return static_cast<ChildType>(i);
    return std::nullopt;
}
// "brutal_kill", "infinity" or a non-negative decimal number of milliseconds
// (at most 2^31 - 1, like every timeout in the config).
constexpr std::optional<Shutdown> parse_shutdown(std::string_view text) noexcept {
    if (text == "brutal_kill") return Shutdown::brutal_kill();
    if (text == "infinity") return Shutdown::infinity();
    if (text.empty() || text.size() > 10) return std::nullopt;
    std::int64_t ms = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        ms = ms * 10 + (c - '0');
    }
    if (ms > 2147483647) return std::nullopt;
    return Shutdown::after(std::chrono::milliseconds{ms});
}

}  // namespace otpp::host
