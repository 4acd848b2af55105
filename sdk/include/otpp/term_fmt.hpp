// fmt (and therefore spdlog) support for otpp values:
//   spdlog::info("got {}", term);   // prints Erlang syntax, like Term::to_string()
// Header-only; format specs apply to the printed text ("{:>20}").
#pragma once

#include <string_view>

#include <fmt/format.h>

#include "otpp/atom.hpp"
#include "otpp/pid.hpp"
#include "otpp/ref.hpp"
#include "otpp/term.hpp"

namespace otpp::detail {
// Shared by the formatters below: format the value's to_string() as a string.
template <class T>
struct ToStringFormatter : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const T& value, FormatContext& ctx) const {
        using otpp::to_string;
        if constexpr (std::is_same_v<T, otpp::Term>) {
            return fmt::formatter<std::string_view>::format(value.to_string(), ctx);
        } else {
            return fmt::formatter<std::string_view>::format(to_string(value), ctx);
        }
    }
};
}  // namespace otpp::detail

template <>
struct fmt::formatter<otpp::Term> : otpp::detail::ToStringFormatter<otpp::Term> {};
template <>
struct fmt::formatter<otpp::Atom> : otpp::detail::ToStringFormatter<otpp::Atom> {};
template <>
struct fmt::formatter<otpp::Pid> : otpp::detail::ToStringFormatter<otpp::Pid> {};
template <>
struct fmt::formatter<otpp::Ref> : otpp::detail::ToStringFormatter<otpp::Ref> {};
