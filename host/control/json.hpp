// Terms as JSON, for `otppctl --json` (docs/CONSOLE.md lists the mapping).
//
//   integers, floats  -> numbers          true, false -> true, false
//   undefined         -> null             other atoms -> strings (their names)
//   binaries          -> strings when valid UTF-8, else the Erlang text "<<1,2>>"
//   pids, refs        -> strings "<0.12.0>", "#Ref<0.0.7>"
//   maps              -> objects; a key that is an atom or a UTF-8 binary is
//                        its text, any other key its Erlang text
//   tuples, lists     -> arrays (an improper list's tail is the last element)
//
// Strings are escaped per RFC 8259: quote, backslash and every control
// character; everything else is passed through as UTF-8.
#pragma once

#include <otpp/term.hpp>

#include <string>
#include <string_view>

namespace otpp::control {

std::string to_json(const Term& term);
// A JSON string literal (with its quotes) for UTF-8 text `s`.
std::string json_string(std::string_view s);
// Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

}  // namespace otpp::control
