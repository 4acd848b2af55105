// What the command files share (commands.cpp, code_commands.cpp).
#pragma once

#include "commands.hpp"

#include <otpp/error.hpp>
#include <otpp/term.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace otpp::control {

using Args = std::vector<Term>;

// A command's failure, sent to the client as {error, <<what()>>}.
class CommandError : public Error {
public:
    using Error::Error;
    CommandError(const CommandError&) = default;
    CommandError& operator=(const CommandError&) = default;
    ~CommandError() override;
};

struct CommandSpec {
    std::size_t min_args;
    std::size_t max_args;
    std::function<Term(const Args&, const ControlContext&)> run;
};

// A pid term, a registered name (atom or string), or a pid's text "<0.42.0>".
// Throws CommandError.
Pid resolve_target(const Term& target);

// modules, load, upgrade, upgrade_plan, purge, soft_purge (code_commands.cpp).
const std::map<std::string, CommandSpec>& code_commands();
// Plugin libraries mapped now (current and old versions), for `stats`.
std::size_t loaded_library_count(const ControlContext& context);

}  // namespace otpp::control
