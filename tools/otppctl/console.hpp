// `otppctl console`: an interactive session running the same commands over
// one connection (the Erlang demo's remote_console). With a terminal: line
// editing, history (~/.otppctl_history) and completion through libedit.
// Without one (stdin a pipe or file): one command per line, no prompt, so
// scripts and tests can drive it.
#pragma once

#include "cli.hpp"

#include <string>
#include <vector>

namespace otppctl {

// Runs until `quit` or end of input. 0 if every command succeeded, else the
// exit code of the last one that failed; 3 if the host cannot be reached.
int run_console(Connection& conn, const Output& output);

// Splits a console line into words: blanks separate, '...' and "..." quote
// (backslash escapes inside "..." and outside quotes). False on an unclosed quote.
bool split_words(const std::string& line, std::vector<std::string>& words);

}  // namespace otppctl
