// Out-of-line constructors and key functions (virtual destructors) of the
// otpp exceptions: defining them here makes libotpp the single home of their
// vtables and type_info, so catch clauses work across host and plugins.
#include "otpp/error.hpp"

#include <string>
#include <utility>

namespace otpp {

Error::Error(std::string what) : std::runtime_error(std::move(what)) {}
Error::~Error() = default;

BadArg::BadArg(std::string what) : Error(std::move(what)) {}
BadArg::~BadArg() = default;

namespace {
std::string position_prefix(std::size_t line, std::size_t column, bool multi_line) {
    if (multi_line) return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
    return "column " + std::to_string(column) + ": ";
}
}  // namespace

ParseError::ParseError(std::string message, std::size_t column)
    : ParseError(std::move(message), 1, column, column == 0 ? 0 : column - 1, false) {}

ParseError::ParseError(std::string message, std::size_t line, std::size_t column, std::size_t offset,
                       bool multi_line)
    : Error(position_prefix(line, column, multi_line) + message),
      message_(std::move(message)),
      line_(line),
      column_(column),
      offset_(offset) {}

ParseError::~ParseError() = default;

}  // namespace otpp
