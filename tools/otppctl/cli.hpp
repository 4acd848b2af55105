// otppctl's commands: argument parsing, the request each one sends, and how
// its result is shown (a table, or JSON with --json). Shared by the command
// line and the console.
#pragma once

#include "client.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace otppctl {

struct Output {
    bool json = false;
    std::FILE* out = stdout;
    std::FILE* err = stderr;
};

// Runs one command (`args[0]` is its name) on `conn`; an ExitCode.
int run_command(Connection& conn, const std::vector<std::string>& args, const Output& output);

// The command names the console completes.
const std::vector<std::string>& command_words();
// The usage text: global options and every command.
void print_usage(std::FILE* to);

}  // namespace otppctl
