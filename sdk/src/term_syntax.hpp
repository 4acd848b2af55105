// Lexical rules of Erlang term syntax shared by the printer, the parser and
// the atom table: when an atom needs quotes, how quoted text is escaped, and
// which binaries print as "strings".
#pragma once

#include <string>
#include <string_view>

namespace otpp::detail {

// Erlang reserved words (and, case, ...): valid atoms, but printed quoted.
bool is_reserved_word(std::string_view name) noexcept;

// True if `name` can be written without quotes: [a-z][A-Za-z0-9_@]* and not
// a reserved word.
bool atom_is_bare(std::string_view name) noexcept;

// Appends the atom in Erlang syntax, quoted and escaped when needed.
void append_atom(std::string& out, std::string_view name);

// Appends `text` between `quote` characters ('\'' or '"'), escaping the quote,
// backslash and control characters so that the parser reads back the same
// bytes. Precondition: text is valid UTF-8.
void append_quoted(std::string& out, std::string_view text, char quote);

// True if the binary should print as <<"...">>: valid UTF-8 made of printable
// code points (plus \n \r \t \v \b \f \e), like io_lib:printable_unicode_list.
bool is_printable_text(std::string_view bytes) noexcept;

}  // namespace otpp::detail
