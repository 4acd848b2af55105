// Exceptions thrown by the otpp SDK.
//
// Every otpp exception derives from otpp::Error so callers can catch the whole
// family at once. The classes are exported and have their key functions (the
// virtual destructors) defined in libotpp, so their type_info exists exactly
// once and a BadArg thrown in a plugin is caught as BadArg in the host (and
// vice versa) even though both sides are built with -fvisibility=hidden.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "otpp/export.hpp"

namespace otpp {

// Base of all otpp errors.
class OTPP_API Error : public std::runtime_error {
public:
    explicit Error(std::string what);
    Error(const Error&) = default;
    Error& operator=(const Error&) = default;
    ~Error() override;
};

// A term of the wrong kind, or an argument out of range (Erlang's `badarg`).
// The message says what was expected and shows what was received, e.g.
// "expected integer, got {sum,10}".
class OTPP_API BadArg : public Error {
public:
    explicit BadArg(std::string what);
    BadArg(const BadArg&) = default;
    BadArg& operator=(const BadArg&) = default;
    ~BadArg() override;
};

// Term::parse failed. what() is "column C: <message>" for single-line input
// and "line L, column C: <message>" when the input spans several lines.
// Columns and lines are 1-based; columns count Unicode code points from the
// start of the line; offset() is the 0-based byte offset into the input.
class OTPP_API ParseError : public Error {
public:
    ParseError(std::string message, std::size_t column);
    ParseError(std::string message, std::size_t line, std::size_t column, std::size_t offset,
               bool multi_line);
    ParseError(const ParseError&) = default;
    ParseError& operator=(const ParseError&) = default;
    ~ParseError() override;

    std::size_t line() const noexcept { return line_; }
    std::size_t column() const noexcept { return column_; }
    std::size_t offset() const noexcept { return offset_; }
    // The message without the position prefix.
    const std::string& message() const noexcept { return message_; }

private:
    std::string message_;
    std::size_t line_ = 1;
    std::size_t column_ = 1;
    std::size_t offset_ = 0;
};

}  // namespace otpp
